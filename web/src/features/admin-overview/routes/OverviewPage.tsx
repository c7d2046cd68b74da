import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert, Loading } from '@/components/States';
import { formatDate, formatNumber } from '@/lib/format';
import { useOverview, type FleetOverview } from '../api/overview';
import { CapacityBar } from '@/components/CapacityBar';
import { statusLabel } from '../components/statusLabel';
import '../overview.css';

/**
 * The fleet at a glance (GET /v1/admin/overview). Every figure links to the list it counts; the
 * page re-reads the figures every 30 s in place and says when it last did.
 */
export function OverviewPage() {
  const { t } = useTranslation('adminOverview');
  const overview = useOverview();
  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      {overview.isPending ? (
        <Loading />
      ) : overview.isError && !overview.data ? (
        <ErrorAlert error={overview.error} onRetry={() => void overview.refetch()} />
      ) : (
        <>
          <p className="overview-updated">
            {/* Announced politely, so a screen reader hears that the figures changed, not every figure. */}
            <span role="status">{t('updatedAt', { at: formatDate(overview.dataUpdatedAt) })}</span>{' '}
            <span className="muted">{t('refreshHint')}</span>{' '}
            <button
              type="button"
              className="button"
              data-variant="secondary"
              disabled={overview.isFetching}
              onClick={() => void overview.refetch()}
            >
              {overview.isFetching ? t('refreshing') : t('refresh')}
            </button>
          </p>
          {overview.isError && <ErrorAlert error={overview.error} />}
          <Figures data={overview.data} />
        </>
      )}
    </>
  );
}

function Figures({ data }: { data: FleetOverview }) {
  const { t, i18n } = useTranslation('adminOverview');
  const tenants = Object.entries(data.tenants).sort(([a], [b]) => a.localeCompare(b));
  const servers = Object.entries(data.servers).sort(([a], [b]) => a.localeCompare(b));
  const total = (counts: [string, number][]) => counts.reduce((sum, [, n]) => sum + n, 0);
  const nodes = data.nodes;
  return (
    <>
      <section aria-labelledby="attention-heading">
        <h2 id="attention-heading">{t('attention.title')}</h2>
        <dl className="stats">
          <Figure label={t('attention.failedOperations')} value={data.failed_operations_24h} to="/admin/operations?status=failed" alert />
          <Figure label={t('attention.deadLetters')} value={data.dead_letters} to="/admin/dead-letters" alert />
          <Figure label={t('attention.nodesDown')} value={nodes.offline + nodes.unauthorized} to="/admin/nodes" alert />
          <div>
            <dt>{t('attention.lastReconcile')}</dt>
            <dd className="overview-small">
              {data.last_reconcile
                ? t('attention.reconcileRun', {
                    at: formatDate(data.last_reconcile.at),
                    nodes: data.last_reconcile.nodes,
                    failed: data.last_reconcile.failed_nodes,
                    changed: data.last_reconcile.changed,
                  })
                : t('attention.noReconcile')}
            </dd>
          </div>
        </dl>
      </section>

      <div className="overview-columns">
        <section aria-labelledby="tenants-heading">
          <h2 id="tenants-heading">
            <Link to="/admin/tenants">{t('tenants.title', { count: total(tenants) })}</Link>
          </h2>
          <CountList
            label={t('tenants.title', { count: total(tenants) })}
            counts={tenants}
            // The tenants list searches by name, not by status: each count opens the whole list.
            href={() => '/admin/tenants'}
            name={(status) => statusLabel(i18n, 'adminOverview:tenantStatus', status)}
            empty={t('tenants.empty')}
          />
        </section>
        <section aria-labelledby="servers-heading">
          <h2 id="servers-heading">
            <Link to="/admin/servers">{t('servers.title', { count: total(servers) })}</Link>
          </h2>
          <CountList
            label={t('servers.title', { count: total(servers) })}
            counts={servers}
            href={(status) => `/admin/servers?status=${encodeURIComponent(status)}`}
            name={(status) => statusLabel(i18n, 'servers:status', status)}
            empty={t('servers.empty')}
          />
          {data.counted_at && <p className="muted overview-small">{t('servers.countedAt', { at: formatDate(data.counted_at) })}</p>}
        </section>
      </div>

      <section aria-labelledby="nodes-heading">
        <h2 id="nodes-heading">
          <Link to="/admin/nodes">{t('nodes.title', { count: nodes.online + nodes.offline + nodes.unauthorized + nodes.unknown })}</Link>
        </h2>
        <dl className="stats">
          {(['online', 'offline', 'unauthorized', 'unknown'] as const).map((status) => (
            <Figure key={status} label={t(`nodeStatus.${status}`)} value={nodes[status]} to="/admin/nodes" />
          ))}
        </dl>
        <div className="overview-columns">
          <CapacityBar label={t('nodes.memory')} committedMb={nodes.committed_memory_mb} totalMb={nodes.memory_mb} />
          <CapacityBar label={t('nodes.disk')} committedMb={nodes.committed_disk_mb} totalMb={nodes.disk_mb} />
        </div>
        {nodes.items.length > 0 && (
          <table>
            <caption className="visually-hidden">{t('nodes.perNode')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('nodes.node')}</th>
                <th scope="col">{t('nodes.status')}</th>
                <th scope="col">{t('nodes.memoryColumn')}</th>
                <th scope="col">{t('nodes.diskColumn')}</th>
              </tr>
            </thead>
            <tbody>
              {nodes.items.map((n) => (
                <tr key={n.id}>
                  <th scope="row">
                    <Link to={`/admin/nodes/${encodeURIComponent(n.id)}`}>{n.name}</Link>
                  </th>
                  <td>
                    <span className="badge" data-status={n.status === 'online' ? 'running' : n.status === 'unknown' ? undefined : 'failed'}>
                      {statusLabel(i18n, 'adminOverview:nodeStatus', n.status)}
                    </span>
                  </td>
                  <td>
                    <CapacityBar label={t('nodes.memoryOf', { name: n.name })} committedMb={n.committed_memory_mb} totalMb={n.memory_mb} hideLabel />
                  </td>
                  <td>
                    <CapacityBar label={t('nodes.diskOf', { name: n.name })} committedMb={n.committed_disk_mb} totalMb={n.disk_mb} hideLabel />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

/**
 * One figure of a `<dl className="stats">`: its label, and its number as a link to the list it
 * counts. The link's name says both ("Dead letters: 2"), since "2" alone names nothing; with
 * `alert`, a figure above zero is shown in the danger colour.
 */
function Figure({ label, value, to, alert = false }: { label: string; value: number; to: string; alert?: boolean }) {
  const { t } = useTranslation('adminOverview');
  return (
    <div>
      <dt>{label}</dt>
      <dd>
        <Link to={to} aria-label={t('figureLink', { label, value: formatNumber(value) })} data-alert={(alert && value > 0) || undefined}>
          {formatNumber(value)}
        </Link>
      </dd>
    </div>
  );
}

function CountList({
  label,
  counts,
  href,
  name,
  empty,
}: {
  label: string;
  counts: [string, number][];
  href: (status: string) => string;
  name: (status: string) => string;
  empty: string;
}) {
  if (counts.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="count-list" aria-label={label}>
      {counts.map(([status, n]) => (
        <li key={status}>
          <Link to={href(status)}>
            <span>{name(status)}</span> <strong>{formatNumber(n)}</strong>
          </Link>
        </li>
      ))}
    </ul>
  );
}
