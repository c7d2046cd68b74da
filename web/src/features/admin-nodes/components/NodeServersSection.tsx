import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import type { CsvColumn } from '@/lib/csv';
import { formatMegabytes } from '@/lib/format';
import { fetchServersPage, useNodeServers, type NodeServer } from '../api/nodes';
import { Pager } from '@/components/Pager';
import { useStatusWord } from './statusWord';

/** The node's servers with the state its Wings reports now (re-read every 15 s). */
export function NodeServersSection({ nodeId }: { nodeId: string }) {
  const { t } = useTranslation('adminNodes');
  const word = useStatusWord();
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const list = useNodeServers(nodeId, cursors[cursors.length - 1]);
  const live = (s: NodeServer) => (s.live ? word(s.live.state) + (s.live.is_suspended ? ` (${word('suspended')})` : '') : t('servers.noLive'));
  const columns: CsvColumn<NodeServer>[] = [
    { header: 'uuid', value: (s) => s.uuid },
    { header: 'name', value: (s) => s.name },
    { header: 'tenant_id', value: (s) => s.tenant.id },
    { header: 'tenant_name', value: (s) => s.tenant.name },
    { header: 'status', value: (s) => s.status },
    { header: 'live_state', value: (s) => s.live?.state },
    { header: 'live_suspended', value: (s) => s.live?.is_suspended },
    { header: 'memory_mb', value: (s) => s.memory_mb },
    { header: 'disk_mb', value: (s) => s.disk_mb },
    { header: 'allocation', value: (s) => s.allocation },
  ];
  return (
    <section aria-labelledby="servers-heading">
      <h2 id="servers-heading">{t('servers.title')}</h2>
      <div className="button-row">
        <ExportCsvButton filename={`node-${nodeId}-servers`} columns={columns} fetchPage={(c) => fetchServersPage(nodeId, c)} />
      </div>
      {list.isPending ? (
        <Loading label={t('servers.loading')} />
      ) : list.isError && !list.data ? (
        <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 && cursors.length === 1 ? (
        <Empty>{t('servers.empty')}</Empty>
      ) : (
        <>
          {!list.data.node_reachable && <Notice tone="warning">{t('servers.unreachable')}</Notice>}
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">{t('servers.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('servers.name')}</th>
                  <th scope="col">{t('servers.tenant')}</th>
                  <th scope="col">{t('servers.stored')}</th>
                  <th scope="col">{t('servers.live')}</th>
                  <th scope="col">{t('servers.limits')}</th>
                  <th scope="col">{t('servers.allocation')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((s) => (
                  <tr key={s.uuid}>
                    <th scope="row">
                      <Link to={`/admin/servers/${encodeURIComponent(s.uuid)}`}>{s.name}</Link>
                    </th>
                    <td>
                      <Link to={`/admin/tenants/${encodeURIComponent(s.tenant.id)}`}>{s.tenant.name ?? s.tenant.id}</Link>
                    </td>
                    <td>{word(s.status)}</td>
                    <td>
                      <span className="badge" data-status={s.live?.state}>
                        {live(s)}
                      </span>
                    </td>
                    <td>{t('servers.limitsValue', { memory: formatMegabytes(s.memory_mb), disk: formatMegabytes(s.disk_mb) })}</td>
                    <td>
                      <code>{s.allocation}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager cursors={cursors} next={list.data.next_cursor} onChange={setCursors} />
        </>
      )}
    </section>
  );
}
