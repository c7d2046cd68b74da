import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import { SelectField, TextField } from '@/components/Field';
import { FilterActions } from '@/components/FilterActions';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading } from '@/components/States';
import type { CsvColumn } from '@/lib/csv';
import { formatDate, formatMegabytes } from '@/lib/format';
import {
  fetchServersPage,
  NO_SERVER_FILTERS,
  SERVER_STATUSES,
  useAdminServers,
  type AdminServer,
  type ServerFilters,
} from '../api/servers';

function toFilters(params: URLSearchParams): ServerFilters {
  return {
    status: params.get('status') ?? '',
    node_id: params.get('node_id') ?? '',
    tenant_id: params.get('tenant_id') ?? '',
    q: params.get('q') ?? '',
  };
}

/** Servers across tenants: filter by status, node, tenant or a name/uuid prefix; export as CSV. */
export function ServersPage() {
  const { t } = useTranslation('adminServers');
  // The filters live in the address (?status=&node_id=&tenant_id=&q=): other pages link to a filtered list.
  const [params, setParams] = useSearchParams();
  const filters = toFilters(params);
  const [draft, setDraft] = useState<ServerFilters>(filters);
  const shown = params.toString();
  useEffect(() => setDraft(toFilters(new URLSearchParams(shown))), [shown]);
  const setFilters = (next: ServerFilters) => setParams(Object.fromEntries(Object.entries(next).filter(([, v]) => v)));
  const servers = useAdminServers(filters);
  const rows = servers.data?.pages.flatMap((p) => p.items) ?? [];

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({
      status: draft.status,
      node_id: draft.node_id.trim(),
      tenant_id: draft.tenant_id.trim(),
      q: draft.q.trim(),
    });
  };
  const columns: CsvColumn<AdminServer>[] = [
    { header: t('columns.uuid'), value: (s) => s.uuid },
    { header: t('columns.name'), value: (s) => s.name },
    { header: t('columns.status'), value: (s) => s.status },
    { header: t('columns.tenantId'), value: (s) => s.tenant.id },
    { header: t('columns.tenant'), value: (s) => s.tenant.name },
    { header: t('columns.nodeId'), value: (s) => s.node.id },
    { header: t('columns.node'), value: (s) => s.node.name },
    { header: t('columns.memoryMb'), value: (s) => s.memory_mb },
    { header: t('columns.diskMb'), value: (s) => s.disk_mb },
    { header: t('columns.allocation'), value: (s) => s.allocation },
    { header: t('columns.created'), value: (s) => s.created_at },
  ];

  return (
    <>
      <PageTitle>{t('list.title')}</PageTitle>
      <p>{t('list.intro')}</p>
      <form className="card" onSubmit={apply} aria-label={t('filters.title')} noValidate>
        <h2>{t('filters.title')}</h2>
        <div className="grid">
          <TextField label={t('filters.q')} hint={t('filters.qHint')} value={draft.q} maxLength={64} onChange={(e) => setDraft({ ...draft, q: e.target.value })} />
          <SelectField label={t('filters.status')} value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value })}>
            <option value="">{t('filters.any')}</option>
            {SERVER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </SelectField>
          <TextField label={t('filters.tenant')} hint={t('filters.tenantHint')} value={draft.tenant_id} onChange={(e) => setDraft({ ...draft, tenant_id: e.target.value })} />
          <TextField label={t('filters.node')} hint={t('filters.nodeHint')} value={draft.node_id} onChange={(e) => setDraft({ ...draft, node_id: e.target.value })} />
        </div>
        <FilterActions
          applyLabel={t('filters.apply')}
          clearLabel={t('filters.clear')}
          onClear={() => {
            setDraft(NO_SERVER_FILTERS); setFilters(NO_SERVER_FILTERS);
          }}
        >
          <ExportCsvButton filename="servers" columns={columns} fetchPage={(cursor) => fetchServersPage(filters, cursor)} />
        </FilterActions>
      </form>

      {servers.isPending ? (
        <Loading label={t('list.loading')} />
      ) : servers.isError ? (
        <ErrorAlert error={servers.error} onRetry={() => void servers.refetch()} />
      ) : rows.length === 0 && !servers.hasNextPage ? (
        <Empty>{t('list.empty')}</Empty>
      ) : (
        <>
          <table>
            <caption className="visually-hidden">{t('list.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('columns.name')}</th>
                <th scope="col">{t('columns.status')}</th>
                <th scope="col">{t('columns.tenant')}</th>
                <th scope="col">{t('columns.node')}</th>
                <th scope="col">{t('columns.resources')}</th>
                <th scope="col">{t('columns.allocation')}</th>
                <th scope="col">{t('columns.created')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.uuid}>
                  <th scope="row">
                    <Link to={`/admin/servers/${s.uuid}`}>{s.name}</Link>
                    <br />
                    <code className="muted">{s.uuid}</code>
                  </th>
                  <td>
                    <span className="badge" data-status={s.status}>
                      {t(`status.${s.status}`)}
                    </span>
                  </td>
                  <td>
                    <Link to={`/admin/tenants/${s.tenant.id}`}>{s.tenant.name ?? s.tenant.id}</Link>
                  </td>
                  <td>
                    <Link to={`/admin/nodes/${s.node.id}`}>{s.node.name ?? s.node.id}</Link>
                  </td>
                  <td>{t('list.resources', { memory: formatMegabytes(s.memory_mb), disk: formatMegabytes(s.disk_mb) })}</td>
                  <td>
                    <code>{s.allocation}</code>
                  </td>
                  <td>{formatDate(s.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 && <p className="muted">{t('list.emptyPage')}</p>}
          {servers.isFetchingNextPage && <Loading />}
          {servers.hasNextPage && (
            <button type="button" className="button" data-variant="secondary" disabled={servers.isFetchingNextPage} onClick={() => void servers.fetchNextPage()}>
              {t('list.more')}
            </button>
          )}
        </>
      )}
    </>
  );
}
