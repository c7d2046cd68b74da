import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { SelectField, TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { ShownOnce } from '@/components/ShownOnce';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { formatDate } from '@/lib/format';
import {
  RESOURCES,
  RIGHTS,
  useApplicationKeys,
  useCreateApplicationKey,
  useRevokeApplicationKey,
  type ApplicationKey,
  type Resource,
  type Right,
} from '../api/applicationKeys';

/**
 * Pterodactyl application keys (ptla_) for the billing systems and bots a host already runs
 * (WHMCS, Paymenter, py-dactyl): each key is the admin's own, works only on /api/application,
 * and holds read or read-write on each of Pterodactyl's seven resources (docs/pterodactyl-api.md).
 */
export function ApplicationKeysPage() {
  const { t } = useTranslation('adminApplicationKeys');
  const keys = useApplicationKeys();
  const revoke = useRevokeApplicationKey();
  const [revoking, setRevoking] = useState<ApplicationKey | null>(null);
  const [revoked, setRevoked] = useState<string | null>(null);
  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <p className="muted">{t('intro')}</p>
      <CreateKey />
      <h2>{t('list.title')}</h2>
      {revoked && <Notice tone="success">{t('revoked', { name: revoked })}</Notice>}
      {revoke.isError && <ErrorAlert error={revoke.error} />}
      {keys.isPending ? (
        <Loading label={t('list.loading')} />
      ) : keys.isError ? (
        <ErrorAlert error={keys.error} onRetry={() => void keys.refetch()} />
      ) : keys.data.items.length === 0 ? (
        <Empty>{t('list.empty')}</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('list.name')}</th>
              <th scope="col">{t('list.key')}</th>
              <th scope="col">{t('list.rights')}</th>
              <th scope="col">{t('list.lastUsed')}</th>
              <th scope="col">{t('list.created')}</th>
              <th scope="col">{t('list.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {keys.data.items.map((k) => (
              <tr key={k.id}>
                <th scope="row">{k.name}</th>
                <td>
                  <code>
                    {k.prefix}.…{k.hint}
                  </code>
                </td>
                <td>
                  <RightsSummary rights={k.permissions} />
                </td>
                <td>
                  {k.last_used_at
                    ? t('list.usedFrom', { when: formatDate(k.last_used_at), ip: k.last_used_ip ?? '–' })
                    : t('list.never')}
                </td>
                <td>{formatDate(k.created_at)}</td>
                <td>
                  {k.revoked_at ? (
                    <span className="badge">{t('list.revokedAt', { when: formatDate(k.revoked_at) })}</span>
                  ) : (
                    <button
                      type="button"
                      className="button"
                      data-variant="danger"
                      aria-label={t('revokeNamed', { name: k.name })}
                      onClick={() => setRevoking(k)}
                    >
                      {t('revoke')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ConfirmDialog
        isOpen={revoking !== null}
        title={t('revokeTitle', { name: revoking?.name ?? '' })}
        confirmLabel={t('revoke')}
        danger
        busy={revoke.isPending}
        onCancel={() => setRevoking(null)}
        onConfirm={() =>
          revoking &&
          revoke.mutate(revoking.id, {
            onSuccess: () => setRevoked(revoking.name),
            onSettled: () => setRevoking(null),
          })
        }
      >
        <p>{t('revokeBody')}</p>
      </ConfirmDialog>
    </>
  );
}

/** "users: read-write, servers: read"; a key with no right at all says so. */
function RightsSummary({ rights }: { rights: Record<string, Right> }) {
  const { t } = useTranslation('adminApplicationKeys');
  const held = RESOURCES.filter((r) => rights[r] && rights[r] !== 'none');
  if (held.length === 0) return <span className="muted">{t('list.noRights')}</span>;
  return <>{held.map((r) => t('list.right', { resource: t(`resources.${r}`), right: t(`rights.${rights[r]}`) })).join(', ')}</>;
}

const NO_RIGHTS: Record<Resource, Right> = {
  users: 'none',
  nodes: 'none',
  allocations: 'none',
  locations: 'none',
  servers: 'none',
  nests: 'none',
  eggs: 'none',
};

function CreateKey() {
  const { t } = useTranslation('adminApplicationKeys');
  const create = useCreateApplicationKey();
  const [name, setName] = useState('');
  const [ips, setIps] = useState('');
  const [rights, setRights] = useState<Record<Resource, Right>>(NO_RIGHTS);
  const [shown, setShown] = useState<{ name: string; key: string } | null>(null);
  const errors = fieldErrors(create.error, t);
  const none = RESOURCES.every((r) => rights[r] === 'none');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setShown(null);
    const allowed = ips
      .split(/[\s,]+/)
      .map((v) => v.trim())
      .filter(Boolean);
    create.mutate(
      { name: name.trim(), permissions: rights, allowed_ips: allowed.length ? allowed : null },
      {
        onSuccess: (reply) => {
          setShown({ name: reply.name, key: reply.key });
          setName('');
          setIps('');
          setRights(NO_RIGHTS);
        },
      },
    );
  };

  return (
    <>
      {shown && (
        <ShownOnce
          title={t('created.title', { name: shown.name })}
          secret={shown.key}
          testId="new-application-key"
          once={t('created.once')}
          copyLabel={t('created.copy')}
          doneLabel={t('created.done')}
          onDone={() => setShown(null)}
        />
      )}
      <details>
        <summary>{t('create.title')}</summary>
        <form onSubmit={submit} noValidate aria-label={t('create.title')}>
          <TextField
            label={t('create.name')}
            hint={t('create.nameHint')}
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={errors.name}
          />
          <fieldset>
            <legend>{t('create.rights')}</legend>
            <p className="muted">{t('create.rightsHint')}</p>
            {RESOURCES.map((r) => (
              <SelectField
                key={r}
                label={t(`resources.${r}`)}
                value={rights[r]}
                onChange={(e) => setRights({ ...rights, [r]: e.target.value as Right })}
                error={errors[`permissions.${r}`]}
              >
                {RIGHTS.map((right) => (
                  <option key={right} value={right}>
                    {t(`rights.${right}`)}
                  </option>
                ))}
              </SelectField>
            ))}
          </fieldset>
          <TextField
            label={t('create.ips')}
            hint={t('create.ipsHint')}
            value={ips}
            onChange={(e) => setIps(e.target.value)}
            error={errors.allowed_ips}
          />
          {create.isError && Object.keys(errors).length === 0 && <ErrorAlert error={create.error} />}
          {none && <p className="muted">{t('create.noneYet')}</p>}
          <button type="submit" className="button" disabled={create.isPending || !name.trim() || none}>
            {t('create.submit')}
          </button>
        </form>
      </details>
      {create.isSuccess && !shown && <Notice tone="info">{t('created.hidden')}</Notice>}
    </>
  );
}
