import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { DeleteBackupButton } from './DeleteBackupButton';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { formatBytes, formatDate } from '@/lib/format';
import { denied, useCan } from '@/features/roles/api/can';
import {
  BUSY,
  useDeleteKeptBackup,
  useDownloadKeptBackup,
  useKeptBackups,
  useUnlockKeptBackup,
  type Backup,
} from '../api/backups';

/** Backups whose server was deleted: locked ones are kept until they are unlocked and deleted
 * (or the tenant is deleted). Download, unlock, delete; nothing to restore them into. */
export function KeptBackups({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('backups');
  const kept = useKeptBackups(tenantId);
  const can = useCan(tenantId);
  const download = useDownloadKeptBackup(tenantId);
  const unlock = useUnlockKeptBackup(tenantId);
  const remove = useDeleteKeptBackup(tenantId);
  const [link, setLink] = useState<{ name: string; url: string; seconds: number } | null>(null);
  const [deleting, setDeleting] = useState<Backup | null>(null);
  const failure = download.error ?? unlock.error ?? remove.error;

  return (
    <section aria-labelledby="kept-heading">
      <h2 id="kept-heading">{t('kept.title')}</h2>
      <p className="hint">{t('kept.intro')}</p>
      {failure && <ErrorAlert error={failure} />}
      {link && (
        <Notice tone="success">
          <a href={link.url} rel="noopener noreferrer">
            {t('download.link', { name: link.name })}
          </a>{' '}
          {t('download.expires', { minutes: Math.round(link.seconds / 60) })}
        </Notice>
      )}
      {kept.isPending ? (
        <Loading label={t('list.loading')} />
      ) : kept.isError ? (
        <ErrorAlert error={kept.error} onRetry={() => void kept.refetch()} />
      ) : kept.data.items.length === 0 ? (
        <Empty>{t('kept.empty')}</Empty>
      ) : (
        <table>
          <caption className="visually-hidden">{t('kept.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('list.name')}</th>
              <th scope="col">{t('list.created')}</th>
              <th scope="col">{t('kept.serverDeleted')}</th>
              <th scope="col">{t('list.size')}</th>
              <th scope="col">{t('list.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {kept.data.items.map((b) => (
              <tr key={b.id}>
                <th scope="row">
                  {b.name}
                  {b.locked && (
                    <>
                      {' '}
                      <span className="badge">{t('list.locked')}</span>
                    </>
                  )}
                  {BUSY.has(b.status) && <div className="muted">{t(`status.${b.status}`)}</div>}
                </th>
                <td>{formatDate(b.created_at)}</td>
                <td>{b.orphaned_at ? formatDate(b.orphaned_at) : '–'}</td>
                <td>{formatBytes(b.size_bytes)}</td>
                <td>
                  <div className="button-row">
                    <button
                      type="button"
                      className="button"
                      data-variant="secondary"
                      disabled={b.status !== 'completed' || download.isPending || denied(can, 'backups.download')}
                      aria-label={t('actions.downloadNamed', { name: b.name })}
                      onClick={() =>
                        download.mutate(b.id, { onSuccess: (d) => setLink({ name: b.name, url: d.url, seconds: d.expires_in }) })
                      }
                    >
                      {t('actions.download')}
                    </button>
                    {b.locked && (
                      <button
                        type="button"
                        className="button"
                        data-variant="secondary"
                        disabled={unlock.isPending || denied(can, 'backups.delete')}
                        aria-label={t('actions.unlockNamed', { name: b.name })}
                        onClick={() => unlock.mutate(b.id)}
                      >
                        {t('actions.unlock')}
                      </button>
                    )}
                    <DeleteBackupButton backup={b} can={can} onClick={() => setDeleting(b)} />
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ConfirmDialog
        isOpen={deleting !== null}
        title={t('delete.title', { name: deleting?.name ?? '' })}
        confirmLabel={t('delete.confirm')}
        danger
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) remove.mutate(deleting.id, { onSettled: () => setDeleting(null) });
        }}
      >
        <p>{t('delete.body')}</p>
      </ConfirmDialog>
    </section>
  );
}
