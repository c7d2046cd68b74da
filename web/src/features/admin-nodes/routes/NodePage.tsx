import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { CapacityBar } from '@/components/CapacityBar';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert, Loading, Notice } from '@/components/States';
import { useOverview } from '@/features/admin-overview/api/overview';
import { formatDate, formatMegabytes, formatPercent } from '@/lib/format';
import { useDeleteNode, useDrainNode, useNode, useRotateToken, useUpdateNode, type Node } from '../api/nodes';
import { AllocationsSection } from '../components/AllocationsSection';
import { NodeForm, bodyOf, draftOf } from '../components/NodeForm';
import { MaintenanceBadge, NodeHealth } from '../components/NodeHealth';
import { NodeMetricsSection } from '../components/NodeMetricsSection';
import { NodeServersSection } from '../components/NodeServersSection';
import { SetupSection } from '../components/SetupSection';
import '../nodes.css';

/** One node: set it up, see its health and load, change it, its servers (live) and allocations. */
export function NodePage() {
  const { nodeId = '' } = useParams();
  const { t } = useTranslation('adminNodes');
  const node = useNode(nodeId);
  const [search] = useSearchParams();
  if (node.isPending) return <Loading />;
  if (node.isError && !node.data) {
    return (
      <>
        <PageTitle>{t('detail.notLoaded')}</PageTitle>
        <p>
          <Link to="/admin/nodes">{t('backToList')}</Link>
        </p>
        <ErrorAlert error={node.error} onRetry={() => void node.refetch()} />
      </>
    );
  }
  const data = node.data;
  return (
    <>
      <PageTitle>{data.name}</PageTitle>
      <p>
        <Link to="/admin/nodes">{t('backToList')}</Link>
      </p>
      {search.get('created') && <Notice tone="success">{t('create.done', { name: data.name })}</Notice>}
      <p className="button-row">
        <NodeHealth node={data} detail /> <MaintenanceBadge node={data} />
      </p>
      <NodeFacts node={data} />
      {/* Keyed by the token id: after a rotation a command shown for the old token disappears. */}
      <SetupSection key={data.token_id} node={data} />
      <Load node={data} />
      <NodeMetricsSection nodeId={data.id} nodeName={data.name} />
      <Actions node={data} />
      <NodeServersSection nodeId={data.id} />
      <AllocationsSection nodeId={data.id} defaultIp={data.fqdn} />
    </>
  );
}

function NodeFacts({ node }: { node: Node }) {
  const { t } = useTranslation('adminNodes');
  const none = t('detail.none');
  const over = (percent: number) =>
    percent < 0 ? t('detail.overNoLimit') : percent === 0 ? t('detail.overNone') : t('detail.overUpTo', { percent: formatPercent(100 + percent) });
  return (
    <dl className="node-facts">
      <dt>{t('detail.address')}</dt>
      <dd>{node.connection_address}</dd>
      <dt>{t('detail.version')}</dt>
      <dd>{node.health?.version ?? t('list.noVersion')}</dd>
      <dt>{t('detail.checked')}</dt>
      <dd>{node.health?.checked_at ? formatDate(node.health.checked_at) : t('health.unknown')}</dd>
      <dt>{t('detail.location')}</dt>
      <dd>{node.location || none}</dd>
      <dt>{t('columns.memory')}</dt>
      <dd>{t('detail.total', { total: formatMegabytes(node.memory_mb), over: over(node.memory_overallocate_percent) })}</dd>
      <dt>{t('columns.disk')}</dt>
      <dd>{t('detail.total', { total: formatMegabytes(node.disk_mb), over: over(node.disk_overallocate_percent) })}</dd>
      <dt>{t('form.sftpPort')}</dt>
      <dd>{node.sftp_port}</dd>
      <dt>{t('form.daemonBase')}</dt>
      <dd>{node.daemon_base}</dd>
      <dt>{t('detail.tokenId')}</dt>
      <dd>
        <code>{node.token_id}</code>
      </dd>
      <dt>{t('form.tags')}</dt>
      <dd>{node.tags.length ? node.tags.join(', ') : none}</dd>
      <dt>{t('form.allowedTenants')}</dt>
      <dd>{node.allowed_tenants.length ? node.allowed_tenants.join(', ') : t('detail.everyTenant')}</dd>
      <dt>{t('form.allowedOrigins')}</dt>
      <dd>{node.allowed_origins?.length ? node.allowed_origins.join(', ') : t('detail.panelOrigin')}</dd>
    </dl>
  );
}

function Load({ node }: { node: Node }) {
  const { t } = useTranslation('adminNodes');
  const overview = useOverview(false);
  const figures = overview.data?.nodes.items.find((n) => n.id === node.id);
  return (
    <section aria-labelledby="load-heading">
      <h2 id="load-heading">{t('detail.load')}</h2>
      {overview.isError && <ErrorAlert error={overview.error} onRetry={() => void overview.refetch()} />}
      <div className="grid">
        <CapacityBar
          label={t('columns.memory')}
          committedMb={figures?.committed_memory_mb ?? 0}
          totalMb={node.memory_mb}
        />
        <CapacityBar
          label={t('columns.disk')}
          committedMb={figures?.committed_disk_mb ?? 0}
          totalMb={node.disk_mb}
        />
      </div>
      <p className="muted hint-line">
        {overview.data?.counted_at ? t('detail.loadCounted', { at: formatDate(overview.data.counted_at) }) : t('list.committedNote')}
      </p>
    </section>
  );
}

type Pending = 'drain' | 'rotate' | 'delete' | null;

function Actions({ node }: { node: Node }) {
  const { t } = useTranslation('adminNodes');
  const navigate = useNavigate();
  const update = useUpdateNode(node.id);
  const drain = useDrainNode(node.id);
  const rotate = useRotateToken(node.id);
  const remove = useDeleteNode(node.id);
  const [asking, setAsking] = useState<Pending>(null);
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const error = [update, drain, rotate, remove].find((m) => m.isError)?.error;
  // Each action starts from a clean slate: an earlier action's error or result is not this one's.
  const start = (next: Pending) => {
    [update, drain, rotate, remove].forEach((m) => m.reset());
    setMessage(null);
    setSaved(false);
    setAsking(next);
  };

  return (
    <section aria-labelledby="actions-heading">
      <h2 id="actions-heading">{t('actions.title')}</h2>
      <p className="muted">{node.maintenance ? t('maintenance.onHint') : t('maintenance.offHint')}</p>
      <div className="button-row">
        <button
          type="button"
          className="button"
          data-variant="secondary"
          disabled={update.isPending}
          onClick={() => {
            start(null);
            update.mutate(
              { maintenance: !node.maintenance },
              { onSuccess: () => setMessage(node.maintenance ? t('maintenance.turnedOff') : t('maintenance.turnedOn')) },
            );
          }}
        >
          {node.maintenance ? t('maintenance.off') : t('maintenance.on')}
        </button>
        <button type="button" className="button" data-variant="secondary" onClick={() => start('drain')}>
          {t('actions.drain')}
        </button>
        <button
          type="button"
          className="button"
          data-variant="secondary"
          aria-expanded={editing}
          onClick={() => {
            start(null);
            setEditing(!editing);
          }}
        >
          {t('actions.edit')}
        </button>
        <button type="button" className="button" data-variant="secondary" onClick={() => start('rotate')}>
          {t('actions.rotate')}
        </button>
        <button type="button" className="button" data-variant="danger" onClick={() => start('delete')}>
          {t('actions.delete')}
        </button>
      </div>
      {message && <Notice tone="success">{message}</Notice>}
      {saved && <Notice tone="success">{t('edit.saved')}</Notice>}
      {error !== undefined && !editing && <ErrorAlert error={error} />}
      {editing && (
        <div className="card">
          <h3>{t('edit.title')}</h3>
          <NodeForm
            initial={draftOf(node)}
            submitLabel={t('edit.submit')}
            busyLabel={t('edit.busy')}
            busy={update.isPending}
            error={update.error}
            onSubmit={(draft) =>
              update.mutate(bodyOf(draft), {
                onSuccess: () => {
                  setEditing(false);
                  setSaved(true);
                },
              })
            }
            onCancel={() => setEditing(false)}
          />
        </div>
      )}
      <ConfirmDialog
        isOpen={asking === 'drain'}
        title={t('drain.title', { name: node.name })}
        confirmLabel={t('actions.drain')}
        busy={drain.isPending}
        onCancel={() => setAsking(null)}
        onConfirm={() =>
          drain.mutate(undefined, {
            onSuccess: (out) => setMessage(t('drain.done', { count: out.servers_left })),
            onSettled: () => setAsking(null),
          })
        }
      >
        <p>{t('drain.body')}</p>
      </ConfirmDialog>
      <ConfirmDialog
        isOpen={asking === 'rotate'}
        title={t('rotate.title', { name: node.name })}
        confirmLabel={t('actions.rotate')}
        danger
        busy={rotate.isPending}
        onCancel={() => setAsking(null)}
        onConfirm={() =>
          rotate.mutate(undefined, {
            onSuccess: () => setMessage(t('rotate.done')),
            onSettled: () => setAsking(null),
          })
        }
      >
        <p>{t('rotate.body')}</p>
      </ConfirmDialog>
      <ConfirmDialog
        isOpen={asking === 'delete'}
        title={t('delete.title', { name: node.name })}
        confirmLabel={t('actions.delete')}
        danger
        busy={remove.isPending}
        onCancel={() => setAsking(null)}
        onConfirm={() =>
          remove.mutate(undefined, {
            onSuccess: () => void navigate('/admin/nodes'),
            onSettled: () => setAsking(null),
          })
        }
      >
        <p>{t('delete.body')}</p>
      </ConfirmDialog>
    </section>
  );
}
