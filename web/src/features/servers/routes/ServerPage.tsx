import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert, Loading, Notice } from '@/components/States';
import { formatBytes, formatPercent } from '@/lib/format';
import { usePower, useServer, type PowerAction } from '../api/servers';
import { useWingsSocket } from '../api/useWingsSocket';
import { LatestEventNotice } from '../components/LatestEventNotice';
import { ServerTabs } from '../components/ServerTabs';
import { StatusBadge } from '../components/StatusBadge';
import type { SocketStatus } from '../lib/wings-socket';

const Console = lazy(() => import('../components/Console'));

// Wings gates `kill` with control.stop (wings-contract.md §3.3).
const POWER: { action: PowerAction; permission: string; when: (state: string) => boolean }[] = [
  { action: 'start', permission: 'control.start', when: (s) => s === 'offline' },
  { action: 'restart', permission: 'control.restart', when: (s) => s === 'running' || s === 'starting' },
  { action: 'stop', permission: 'control.stop', when: (s) => s === 'running' || s === 'starting' },
  { action: 'kill', permission: 'control.stop', when: (s) => s !== 'offline' },
];

// Server statuses where Wings has no container to talk to yet.
const NO_SOCKET = new Set(['provisioning', 'install_failed', 'deleting', 'suspended']);

function ConnectionNotice({ status, detail }: { status: SocketStatus; detail: string | undefined }) {
  const { t } = useTranslation();
  if (status === 'connected' || status === 'closed') return null;
  const tone = status === 'connecting' || status === 'reconnecting' ? 'info' : 'error';
  return (
    <Notice tone={tone}>
      {t(`servers:connection.${status}`)}
      {status === 'jwt-error' && detail ? ` (${detail})` : ''}
    </Notice>
  );
}

export function ServerPage() {
  const { t } = useTranslation();
  const { tenantId = '', serverId = '' } = useParams();
  const server = useServer(tenantId, serverId);
  const power = usePower(tenantId, serverId);
  const canConnect = !!server.data && !NO_SOCKET.has(server.data.status) && !server.data.suspended;
  const live = useWingsSocket(tenantId, serverId, canConnect);

  if (server.isPending) return <Loading />;
  if (server.isError) return <ErrorAlert error={server.error} onRetry={() => server.refetch()} />;
  const s = server.data;
  const state = live.state ?? s.status;
  const stats = live.stats;

  return (
    <>
      <PageTitle>{s.name}</PageTitle>
      <p>
        {t('servers:page.status')} <StatusBadge status={state} />{' '}
        <span className="muted">
          {t('servers:page.address', { address: `${s.allocation.ip}:${s.allocation.port}` })}
        </span>
      </p>
      {s.status_reason && <Notice tone="warning">{s.status_reason}</Notice>}
      <LatestEventNotice tenantId={tenantId} serverId={serverId} />
      <ServerTabs tenantId={tenantId} serverId={serverId} />
      <div className="button-row" role="group" aria-label={t('servers:power.label')}>
        {POWER.map(({ action, permission, when }) => {
          const allowed = live.socket ? live.socket.can(permission) : false;
          return (
            <button
              key={action}
              type="button"
              className="button"
              data-variant={action === 'kill' ? 'danger' : action === 'start' ? undefined : 'secondary'}
              disabled={!allowed || !when(state) || power.isPending}
              title={allowed ? undefined : t('servers:power.notAllowed')}
              onClick={() => power.mutate(action)}
            >
              {t(`servers:power.${action}`)}
            </button>
          );
        })}
      </div>
      {live.socket && !live.socket.can('control.start') && live.connection === 'connected' && (
        <p className="muted">{t('servers:power.notAllowed')}</p>
      )}
      {power.error && <ErrorAlert error={power.error} />}
      <dl className="stats" aria-label={t('servers:stats.label')}>
        <div>
          <dt>{t('servers:stats.cpu')}</dt>
          <dd>{stats ? formatPercent(stats.cpu_absolute) : '—'}</dd>
        </div>
        <div>
          <dt>{t('servers:stats.memory')}</dt>
          <dd>
            {stats
              ? t('servers:stats.of', { used: formatBytes(stats.memory_bytes), limit: formatBytes(stats.memory_limit_bytes) })
              : '—'}
          </dd>
        </div>
        <div>
          <dt>{t('servers:stats.networkIn')}</dt>
          <dd>{stats ? formatBytes(stats.network.rx_bytes) : '—'}</dd>
        </div>
        <div>
          <dt>{t('servers:stats.networkOut')}</dt>
          <dd>{stats ? formatBytes(stats.network.tx_bytes) : '—'}</dd>
        </div>
      </dl>
      {canConnect ? (
        <>
          <ConnectionNotice status={live.connection} detail={live.detail} />
          {live.socket && (
            <Suspense fallback={<Loading label={t('servers:console.loading')} />}>
              <Console socket={live.socket} canSend={live.connection === 'connected' && live.socket.can('control.console')} />
            </Suspense>
          )}
        </>
      ) : (
        <Notice tone="info">{t('servers:page.noConsole')}</Notice>
      )}
    </>
  );
}
