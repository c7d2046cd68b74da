import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { TextField } from '@/components/Field';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { formatDate } from '@/lib/format';
import {
  PasskeyCancelled,
  passkeysSupported,
  useDeletePasskey,
  usePasskeys,
  useRegisterPasskey,
  useRenamePasskey,
  type Passkey,
} from '../api/passkeys';

/** The account's passkeys: add one (the browser's prompt), see when each was last used, rename, delete. */
export function PasskeysSection() {
  const { t } = useTranslation('passkeys');
  const passkeys = usePasskeys();
  const register = useRegisterPasskey();
  const remove = useDeletePasskey();
  const [name, setName] = useState('');
  const [deleting, setDeleting] = useState<Passkey | null>(null);
  const [renaming, setRenaming] = useState<Passkey | null>(null);
  const cancelled = register.error instanceof PasskeyCancelled;
  const items = passkeys.data?.items ?? [];

  const add = (event: FormEvent) => {
    event.preventDefault();
    register.mutate(name.trim(), { onSuccess: () => setName('') });
  };

  return (
    <section className="card" aria-labelledby="passkeys-heading">
      <h2 id="passkeys-heading">{t('title')}</h2>
      <p>{t('body')}</p>
      {!passkeysSupported() && <Notice tone="warning">{t('unsupported')}</Notice>}
      {passkeys.isPending ? (
        <Loading />
      ) : passkeys.isError ? (
        <ErrorAlert error={passkeys.error} onRetry={() => void passkeys.refetch()} />
      ) : items.length === 0 ? (
        <Empty>{t('empty')}</Empty>
      ) : (
        <table>
          <caption className="visually-hidden">{t('caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('name')}</th>
              <th scope="col">{t('added')}</th>
              <th scope="col">{t('lastUsed')}</th>
              <th scope="col">{t('synced')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id}>
                <th scope="row">{p.name}</th>
                <td>{formatDate(p.created_at)}</td>
                <td>{p.last_used_at ? formatDate(p.last_used_at) : t('never')}</td>
                <td>{p.backup_eligible ? t('syncedYes') : t('syncedNo')}</td>
                <td>
                  <div className="button-row">
                    <button type="button" className="button" data-variant="secondary" aria-label={t('renameNamed', { name: p.name })} onClick={() => setRenaming(p)}>
                      {t('rename')}
                    </button>
                    <button type="button" className="button" data-variant="danger" aria-label={t('deleteNamed', { name: p.name })} onClick={() => setDeleting(p)}>
                      {t('delete')}
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {remove.isError && <ErrorAlert error={remove.error} />}
      {remove.isSuccess && <Notice tone="success">{t('deleted')}</Notice>}
      {register.isSuccess && <Notice tone="success">{t('added_notice', { name: register.data.name })}</Notice>}
      {register.isError && (cancelled ? <Notice tone="info">{t('cancelled')}</Notice> : <ErrorAlert error={register.error} />)}
      {passkeysSupported() && (
        <form onSubmit={add}>
          <TextField label={t('newName')} hint={t('newNameHint')} name="passkey-name" maxLength={64} value={name} onChange={(e) => setName(e.target.value)} />
          <div className="button-row">
            <button type="submit" className="button" disabled={register.isPending}>
              {register.isPending ? t('adding') : t('add')}
            </button>
          </div>
        </form>
      )}
      {renaming && <RenameDialog passkey={renaming} onClose={() => setRenaming(null)} />}
      <ConfirmDialog
        isOpen={deleting !== null}
        title={t('confirmTitle')}
        confirmLabel={t('delete')}
        danger
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate(deleting.id, { onSettled: () => setDeleting(null) })}
      >
        <p>{deleting && t('confirmBody', { name: deleting.name })}</p>
      </ConfirmDialog>
    </section>
  );
}

function RenameDialog({ passkey, onClose }: { passkey: Passkey; onClose: () => void }) {
  const { t } = useTranslation('passkeys');
  const rename = useRenamePasskey();
  const [name, setName] = useState(passkey.name);
  return (
    <ConfirmDialog
      isOpen
      title={t('renameTitle', { name: passkey.name })}
      confirmLabel={t('save')}
      busy={rename.isPending}
      onCancel={onClose}
      onConfirm={() => name.trim() && rename.mutate({ id: passkey.id, name: name.trim() }, { onSuccess: onClose })}
    >
      {rename.isError && <ErrorAlert error={rename.error} />}
      <TextField label={t('name')} name="rename-passkey" maxLength={64} required value={name} onChange={(e) => setName(e.target.value)} />
    </ConfirmDialog>
  );
}
