import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { DeleteBackupButton } from './DeleteBackupButton';
import { TextField } from '@/components/Field';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { formatBytes, formatDate, formatNumber } from '@/lib/format';
import { denied, useCan, type Can } from '@/features/roles/api/can';
import {
  BUSY,
  useBackupRotation,
  useBackups,
  useBackupSettings,
  useCreateBackup,
  useDeleteBackup,
  useDownloadBackup,
  useLockBackup,
  useOperation,
  useRestoreBackup,
  type Backup,
  type BackupSettings,
} from '../api/backups';
import { OperationSteps } from './OperationSteps';

/** The Backups tab of a server page: quota, create with progress, and each backup's actions. */
export function BackupsTab({ tenantId, serverId, serverName }: { tenantId: string; serverId: string; serverName: string }) {
  const { t } = useTranslation('backups');
  const backups = useBackups(tenantId, serverId);
  const settings = useBackupSettings(tenantId);
  const [operationId, setOperationId] = useState<string | null>(null);
  const can = useCan(tenantId);

  return (
    <section aria-label={t('title')}>
      <h2>{t('quota.title')}</h2>
      {settings.isPending ? (
        <Loading label={t('quota.loading')} />
      ) : settings.isError ? (
        <ErrorAlert error={settings.error} onRetry={() => void settings.refetch()} />
      ) : (
        <Quota tenantId={tenantId} can={can} settings={settings.data} count={backups.data?.items.filter((b) => b.status !== 'failed').length} />
      )}

      <CreateBackup tenantId={tenantId} serverId={serverId} can={can} onStarted={setOperationId} />
      {operationId && <OperationProgress tenantId={tenantId} operationId={operationId} />}

      <h2>{t('list.title', { server: serverName })}</h2>
      {backups.isPending ? (
        <Loading label={t('list.loading')} />
      ) : backups.isError ? (
        <ErrorAlert error={backups.error} onRetry={() => void backups.refetch()} />
      ) : backups.data.items.length === 0 ? (
        <Empty>{t('list.empty')}</Empty>
      ) : (
        <BackupTable tenantId={tenantId} serverId={serverId} can={can} items={backups.data.items} onOperation={setOperationId} />
      )}
    </section>
  );
}

function Quota({ tenantId, can, settings, count }: { tenantId: string; can: Can; settings: BackupSettings; count: number | undefined }) {
  const { t } = useTranslation('backups');
  const rotation = useBackupRotation(tenantId);
  const unlimitedBytes = settings.quota_bytes < 0;
  const meterId = useId();
  return (
    <div className="card">
      <p id={meterId}>
        {unlimitedBytes
          ? t('quota.bytesUnlimited', { used: formatBytes(settings.usage_bytes) })
          : t('quota.bytes', { used: formatBytes(settings.usage_bytes), limit: formatBytes(settings.quota_bytes) })}
      </p>
      {!unlimitedBytes && settings.quota_bytes > 0 && (
        <meter aria-labelledby={meterId} min={0} max={settings.quota_bytes} value={Math.min(settings.usage_bytes, settings.quota_bytes)} />
      )}
      <p>
        {settings.backups_per_server < 0
          ? t('quota.countUnlimited')
          : t('quota.count', { count: count ?? 0, used: formatNumber(count ?? 0), limit: formatNumber(settings.backups_per_server) })}
      </p>
      {settings.backups_per_server === 0 && <Notice tone="info">{t('quota.none')}</Notice>}
      <div className="field">
        <label>
          <input
            type="checkbox"
            checked={rotation.isPending ? (rotation.variables ?? settings.rotate) : settings.rotate}
            disabled={rotation.isPending || denied(can, 'backups.delete')}
            onChange={(e) => rotation.mutate(e.target.checked)}
          />{' '}
          {t('rotation.label')}
        </label>
        <span className="hint">{t('rotation.hint')}</span>
      </div>
      {rotation.isError && <ErrorAlert error={rotation.error} />}
    </div>
  );
}

function CreateBackup({ tenantId, serverId, can, onStarted }: { tenantId: string; serverId: string; can: Can; onStarted: (op: string) => void }) {
  const { t } = useTranslation('backups');
  const create = useCreateBackup(tenantId, serverId);
  const [name, setName] = useState('');
  const [ignored, setIgnored] = useState('');
  const ignoredId = useId();
  const errors = fieldErrors(create.error, t);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const patterns = ignored
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    create.mutate(
      { name: name.trim(), ignored: patterns },
      {
        onSuccess: (reply) => {
          setName('');
          setIgnored('');
          onStarted(reply.operation.id);
        },
      },
    );
  };

  return (
    <form className="card" onSubmit={submit} aria-labelledby={`${ignoredId}-title`} noValidate>
      <h2 id={`${ignoredId}-title`}>{t('create.title')}</h2>
      <TextField label={t('create.name')} hint={t('create.nameHint')} value={name} maxLength={191} onChange={(e) => setName(e.target.value)} error={errors.name} />
      <div className="field">
        <label htmlFor={ignoredId}>{t('create.ignored')}</label>
        <textarea
          id={ignoredId}
          rows={3}
          value={ignored}
          onChange={(e) => setIgnored(e.target.value)}
          aria-describedby={`${ignoredId}-hint`}
          aria-invalid={errors.ignored ? true : undefined}
        />
        <span id={`${ignoredId}-hint`} className="hint">
          {t('create.ignoredHint')}
        </span>
        {errors.ignored && <span className="field-error">{errors.ignored}</span>}
      </div>
      {create.isError && Object.keys(errors).length === 0 && <ErrorAlert error={create.error} />}
      <button type="submit" className="button" disabled={create.isPending || denied(can, 'backups.create')}>
        {create.isPending ? t('create.starting') : t('create.submit')}
      </button>
      {denied(can, 'backups.create') && <p className="hint">{t('permissions:denied', { permission: 'backups.create' })}</p>}
    </form>
  );
}

function OperationProgress({ tenantId, operationId }: { tenantId: string; operationId: string }) {
  const { t } = useTranslation('backups');
  const op = useOperation(tenantId, operationId);
  return (
    <div className="card" aria-labelledby={`op-${operationId}`}>
      <h2 id={`op-${operationId}`}>
        {op.data ? t(`operation.types.${op.data.type}`, { defaultValue: t('operation.title') }) : t('operation.title')}
      </h2>
      {op.isPending ? (
        <Loading />
      ) : op.isError ? (
        <ErrorAlert error={op.error} onRetry={() => void op.refetch()} />
      ) : (
        <OperationSteps operation={op.data} />
      )}
    </div>
  );
}

type Pending = { kind: 'restore' | 'delete'; backup: Backup } | null;

function BackupTable({
  tenantId,
  serverId,
  can,
  items,
  onOperation,
}: {
  tenantId: string;
  serverId: string;
  can: Can;
  items: Backup[];
  onOperation: (op: string) => void;
}) {
  const { t } = useTranslation('backups');
  const restore = useRestoreBackup(tenantId, serverId);
  const remove = useDeleteBackup(tenantId, serverId);
  const lock = useLockBackup(tenantId, serverId);
  const download = useDownloadBackup(tenantId, serverId);
  const [pending, setPending] = useState<Pending>(null);
  const [truncate, setTruncate] = useState(false);
  const [link, setLink] = useState<{ name: string; url: string; seconds: number } | null>(null);
  const truncateId = useId();
  const failure = restore.error ?? remove.error ?? lock.error ?? download.error;

  const close = () => {
    setPending(null);
    setTruncate(false);
  };

  return (
    <>
      {failure && <ErrorAlert error={failure} />}
      {(['backups.download', 'backups.restore', 'backups.delete'] as const)
        .filter((p) => denied(can, p))
        .map((p) => (
          <p key={p} className="hint">
            {t('permissions:denied', { permission: p })}
          </p>
        ))}
      {link && (
        <Notice tone="success">
          <a href={link.url} rel="noopener noreferrer">
            {t('download.link', { name: link.name })}
          </a>{' '}
          {t('download.expires', { minutes: Math.round(link.seconds / 60) })}
        </Notice>
      )}
      <table>
        <caption className="visually-hidden">{t('list.caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('list.name')}</th>
            <th scope="col">{t('list.created')}</th>
            <th scope="col">{t('list.size')}</th>
            <th scope="col">{t('list.state')}</th>
            <th scope="col">{t('list.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((b) => {
            const done = b.status === 'completed';
            return (
              <tr key={b.id}>
                <th scope="row">
                  {b.name}
                  {b.locked && (
                    <>
                      {' '}
                      <span className="badge">{t('list.locked')}</span>
                    </>
                  )}
                </th>
                <td>{formatDate(b.created_at)}</td>
                <td>{done ? formatBytes(b.size_bytes) : '–'}</td>
                <td>
                  <span className="badge" data-status={b.status}>
                    {BUSY.has(b.status) && <span className="spinner" aria-hidden="true" />} {t(`status.${b.status}`)}
                  </span>
                  {b.status === 'failed' && b.error && <div className="muted">{b.error}</div>}
                </td>
                <td>
                  <div className="button-row">
                    <button
                      type="button"
                      className="button"
                      data-variant="secondary"
                      disabled={!done || download.isPending || denied(can, 'backups.download')}
                      aria-label={t('actions.downloadNamed', { name: b.name })}
                      onClick={() =>
                        download.mutate(b.id, { onSuccess: (d) => setLink({ name: b.name, url: d.url, seconds: d.expires_in }) })
                      }
                    >
                      {t('actions.download')}
                    </button>
                    <button
                      type="button"
                      className="button"
                      data-variant="secondary"
                      disabled={!done || denied(can, 'backups.restore')}
                      aria-label={t('actions.restoreNamed', { name: b.name })}
                      onClick={() => setPending({ kind: 'restore', backup: b })}
                    >
                      {t('actions.restore')}
                    </button>
                    <button
                      type="button"
                      className="button"
                      data-variant="secondary"
                      disabled={lock.isPending || BUSY.has(b.status) || denied(can, 'backups.delete')}
                      aria-label={t(b.locked ? 'actions.unlockNamed' : 'actions.lockNamed', { name: b.name })}
                      onClick={() => lock.mutate({ backupId: b.id, locked: !b.locked })}
                    >
                      {t(b.locked ? 'actions.unlock' : 'actions.lock')}
                    </button>
                    <DeleteBackupButton backup={b} can={can} onClick={() => setPending({ kind: 'delete', backup: b })} />
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>

      <ConfirmDialog
        isOpen={pending?.kind === 'restore'}
        title={t('restore.title', { name: pending?.backup.name ?? '' })}
        confirmLabel={t('restore.confirm')}
        danger={truncate}
        busy={restore.isPending}
        onCancel={close}
        onConfirm={() => {
          if (!pending) return;
          restore.mutate(
            { backupId: pending.backup.id, truncate },
            {
              onSuccess: (reply) => onOperation(reply.operation.id),
              onSettled: close,
            },
          );
        }}
      >
        <p>{t('restore.body')}</p>
        <div className="field">
          <label htmlFor={truncateId}>
            <input id={truncateId} type="checkbox" checked={truncate} onChange={(e) => setTruncate(e.target.checked)} aria-describedby={`${truncateId}-hint`} />{' '}
            {t('restore.truncate')}
          </label>
          <span id={`${truncateId}-hint`} className="hint">
            {truncate ? t('restore.truncateOn') : t('restore.truncateOff')}
          </span>
        </div>
      </ConfirmDialog>

      <ConfirmDialog
        isOpen={pending?.kind === 'delete'}
        title={t('delete.title', { name: pending?.backup.name ?? '' })}
        confirmLabel={t('delete.confirm')}
        danger
        busy={remove.isPending}
        onCancel={close}
        onConfirm={() => {
          if (!pending) return;
          remove.mutate(pending.backup.id, { onSuccess: (reply) => onOperation(reply.operation.id), onSettled: close });
        }}
      >
        <p>{t('delete.body')}</p>
      </ConfirmDialog>
    </>
  );
}

