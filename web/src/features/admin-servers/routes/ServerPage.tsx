import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert, Loading, Notice } from '@/components/States';
import { formatDate, formatMegabytes } from '@/lib/format';
import { useAdminServer, useServerAction, type AdminServerDetail, type ServerAction } from '../api/servers';
import '../admin-servers.css';

/** One server of any tenant: its record, and suspend, unsuspend or force-delete. */
export function ServerPage() {
  const { serverId = '' } = useParams();
  const { t } = useTranslation('adminServers');
  const server = useAdminServer(serverId);
  if (server.isPending) return <Loading label={t('detail.loading')} />;
  if (server.isError)
    return (
      <>
        <PageTitle>{t('detail.fallbackTitle')}</PageTitle>
        <ErrorAlert error={server.error} onRetry={() => void server.refetch()} />
        <p>
          <Link to="/admin/servers">{t('detail.back')}</Link>
        </p>
      </>
    );
  const s = server.data;
  return (
    <>
      <PageTitle>{t('detail.title', { name: s.name })}</PageTitle>
      <p>
        <Link to="/admin/servers">{t('detail.back')}</Link>
      </p>
      <section className="card" aria-labelledby="server-record">
        <h2 id="server-record">{t('detail.record')}</h2>
        <dl className="stats admin-record">
          <div>
            <dt>{t('columns.status')}</dt>
            <dd>
              <span className="badge" data-status={s.status}>
                {t(`status.${s.status}`)}
              </span>
            </dd>
          </div>
          <div>
            <dt>{t('columns.tenant')}</dt>
            <dd>
              <Link to={`/admin/tenants/${s.tenant.id}`}>{s.tenant.name ?? s.tenant.id}</Link>
            </dd>
          </div>
          <div>
            <dt>{t('columns.node')}</dt>
            <dd>
              <Link to={`/admin/nodes/${s.node.id}`}>{s.node.name ?? s.node.id}</Link>
            </dd>
          </div>
          <div>
            <dt>{t('columns.resources')}</dt>
            <dd>{t('list.resources', { memory: formatMegabytes(s.memory_mb), disk: formatMegabytes(s.disk_mb) })}</dd>
          </div>
          <div>
            <dt>{t('detail.cpu')}</dt>
            <dd>{s.cpu_percent ? `${s.cpu_percent} %` : t('detail.unlimited')}</dd>
          </div>
          <div>
            <dt>{t('detail.allocations')}</dt>
            <dd>{s.allocations.join(', ')}</dd>
          </div>
          <div>
            <dt>{t('detail.blueprint')}</dt>
            <dd>
              <Link to={`/admin/blueprints/${s.blueprint_id}`}>{s.blueprint_id}</Link>
            </dd>
          </div>
          <div>
            <dt>{t('detail.image')}</dt>
            <dd>
              <code>{s.docker_image}</code>
            </dd>
          </div>
          <div>
            <dt>{t('columns.created')}</dt>
            <dd>{formatDate(s.created_at)}</dd>
          </div>
          <div>
            <dt>{t('detail.installed')}</dt>
            <dd>{s.installed_at ? formatDate(s.installed_at) : t('detail.notInstalled')}</dd>
          </div>
        </dl>
        <p>
          {t('detail.uuid')} <code>{s.uuid}</code>
        </p>
        {s.status_reason && <Notice tone="warning">{t('detail.reason', { reason: s.status_reason })}</Notice>}
        <p>
          <Link to={`/admin/operations`}>{t('detail.operationsLink')}</Link>
        </p>
      </section>
      <Actions server={s} />
    </>
  );
}

function Actions({ server }: { server: AdminServerDetail }) {
  const { t } = useTranslation('adminServers');
  const action = useServerAction(server.uuid);
  const [asking, setAsking] = useState<ServerAction | null>(null);
  const [typed, setTyped] = useState('');
  const close = () => {
    setAsking(null);
    setTyped('');
  };
  const run = (which: ServerAction) => action.mutate(which, { onSettled: close });
  const suspended = server.status === 'suspended';
  const gone = server.status === 'deleting';
  return (
    <section className="card" aria-labelledby="server-actions">
      <h2 id="server-actions">{t('actions.title')}</h2>
      {action.error && <ErrorAlert error={action.error} />}
      {action.data && (
        <Notice tone="info">
          {t('actions.started')}{' '}
          <Link to={`/admin/operations/${action.data.operation.id}`}>{t('actions.follow')}</Link>
        </Notice>
      )}
      <h3>{suspended ? t('actions.unsuspendTitle') : t('actions.suspendTitle')}</h3>
      <p>{suspended ? t('actions.unsuspendBody') : t('actions.suspendBody')}</p>
      <button type="button" className="button" data-variant={suspended ? undefined : 'danger'} disabled={gone || action.isPending} onClick={() => setAsking(suspended ? 'unsuspend' : 'suspend')}>
        {suspended ? t('actions.unsuspend') : t('actions.suspend')}
      </button>
      <h3>{t('actions.forceDeleteTitle')}</h3>
      <p>{t('actions.forceDeleteBody')}</p>
      <button type="button" className="button" data-variant="danger" disabled={action.isPending} onClick={() => setAsking('force-delete')}>
        {t('actions.forceDelete')}
      </button>

      <ConfirmDialog
        isOpen={asking === 'suspend' || asking === 'unsuspend'}
        title={t(asking === 'unsuspend' ? 'actions.unsuspendConfirmTitle' : 'actions.suspendConfirmTitle', { name: server.name })}
        confirmLabel={asking === 'unsuspend' ? t('actions.unsuspend') : t('actions.suspend')}
        danger={asking === 'suspend'}
        busy={action.isPending}
        onCancel={close}
        onConfirm={() => asking && run(asking)}
      >
        <p>{t(asking === 'unsuspend' ? 'actions.unsuspendConfirmBody' : 'actions.suspendConfirmBody', { name: server.name, tenant: server.tenant.name ?? server.tenant.id })}</p>
      </ConfirmDialog>
      <ConfirmDialog
        isOpen={asking === 'force-delete'}
        title={t('actions.forceDeleteConfirmTitle', { name: server.name })}
        confirmLabel={t('actions.forceDelete')}
        danger
        busy={action.isPending || typed !== server.name}
        onCancel={close}
        onConfirm={() => typed === server.name && run('force-delete')}
      >
        <p>{t('actions.forceDeleteConfirmBody', { name: server.name, node: server.node.name ?? server.node.id })}</p>
        <TextField label={t('actions.typeName', { name: server.name })} autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
      </ConfirmDialog>
    </section>
  );
}
