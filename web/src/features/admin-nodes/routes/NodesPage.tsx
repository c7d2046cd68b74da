import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { CapacityBar } from '@/components/CapacityBar';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading } from '@/components/States';
import { useOverview, type NodeFigures } from '@/features/admin-overview/api/overview';
import type { CsvColumn } from '@/lib/csv';
import { fetchNodesPage, useNodes, type Node } from '../api/nodes';
import { MaintenanceBadge, NodeHealth } from '../components/NodeHealth';
import { Pager } from '@/components/Pager';
import '../nodes.css';

/** Every node with its health, Wings version and committed memory and disk. */
export function NodesPage() {
  const { t } = useTranslation('adminNodes');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const list = useNodes(cursor);
  // Committed memory and disk per node are the overview's counters (one read for the whole fleet).
  const overview = useOverview(false);
  const figures = new Map((overview.data?.nodes.items ?? []).map((n) => [n.id, n] as const));

  const columns: CsvColumn<Node>[] = [
    { header: 'id', value: (n) => n.id },
    { header: 'name', value: (n) => n.name },
    { header: 'location', value: (n) => n.location },
    { header: 'connection_address', value: (n) => n.connection_address },
    { header: 'health', value: (n) => n.health?.status ?? 'unknown' },
    { header: 'version', value: (n) => n.health?.version },
    { header: 'last_seen_at', value: (n) => n.health?.last_seen_at },
    { header: 'maintenance', value: (n) => n.maintenance },
    { header: 'memory_mb', value: (n) => n.memory_mb },
    { header: 'committed_memory_mb', value: (n) => figures.get(n.id)?.committed_memory_mb },
    { header: 'disk_mb', value: (n) => n.disk_mb },
    { header: 'committed_disk_mb', value: (n) => figures.get(n.id)?.committed_disk_mb },
    { header: 'tags', value: (n) => n.tags.join(' ') },
  ];

  return (
    <>
      <PageTitle>{t('list.title')}</PageTitle>
      <div className="button-row">
        <Link className="button" to="/admin/nodes/new">
          {t('list.add')}
        </Link>
        <ExportCsvButton filename="nodes" columns={columns} fetchPage={(c) => fetchNodesPage(c)} />
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.isError && !list.data ? (
        <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 && cursors.length === 1 ? (
        <Empty
          action={
            <Link className="button" to="/admin/nodes/new">
              {t('list.add')}
            </Link>
          }
        >
          {t('list.empty')}
        </Empty>
      ) : (
        <>
          {list.isError && <ErrorAlert error={list.error} />}
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">{t('list.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('columns.name')}</th>
                  <th scope="col">{t('columns.health')}</th>
                  <th scope="col">{t('columns.version')}</th>
                  <th scope="col">{t('columns.memory')}</th>
                  <th scope="col">{t('columns.disk')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((node) => (
                  <NodeRow key={node.id} node={node} figures={figures.get(node.id)} />
                ))}
              </tbody>
            </table>
          </div>
          {overview.data?.counted_at && <p className="muted hint-line">{t('list.committedNote')}</p>}
          <Pager cursors={cursors} next={list.data.next_cursor} onChange={setCursors} />
        </>
      )}
    </>
  );
}

function NodeRow({ node, figures }: { node: Node; figures: NodeFigures | undefined }) {
  const { t } = useTranslation('adminNodes');
  return (
    <tr>
      <th scope="row">
        <Link to={`/admin/nodes/${encodeURIComponent(node.id)}`}>{node.name}</Link>
        <br />
        <span className="muted node-address">
          {node.connection_address}
          {node.location ? ` · ${node.location}` : ''}
        </span>
      </th>
      <td>
        <NodeHealth node={node} detail={node.health?.status !== 'online'} /> <MaintenanceBadge node={node} />
      </td>
      <td>{node.health?.version ?? t('list.noVersion')}</td>
      <td>
        <CapacityBar
          label={t('columns.memoryOf', { name: node.name })}
          committedMb={figures?.committed_memory_mb ?? 0}
          totalMb={node.memory_mb}
          hideLabel
        />
      </td>
      <td>
        <CapacityBar
          label={t('columns.diskOf', { name: node.name })}
          committedMb={figures?.committed_disk_mb ?? 0}
          totalMb={node.disk_mb}
          hideLabel
        />
      </td>
    </tr>
  );
}
