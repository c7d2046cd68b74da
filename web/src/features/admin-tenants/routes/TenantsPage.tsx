import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import { PageTitle } from '@/components/PageTitle';
import { SearchForm, useSearchQuery } from '@/components/SearchForm';
import { Empty, ErrorAlert, Loading } from '@/components/States';
import type { CsvColumn } from '@/lib/csv';
import { formatDate } from '@/lib/format';
import { fetchTenantsPage, useAdminTenants, type AdminTenant } from '../api/tenants';

/** Every tenant, searchable by name or id, each linking to its detail; CSV export of the search. */
export function TenantsPage() {
  const { t } = useTranslation('adminTenants');
  const [q, search] = useSearchQuery();
  const list = useAdminTenants(q);
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];

  const columns: CsvColumn<AdminTenant>[] = [
    { header: t('columns.id'), value: (r) => r.id },
    { header: t('columns.name'), value: (r) => r.name },
    { header: t('columns.status'), value: (r) => r.status },
    { header: t('columns.owners'), value: (r) => r.owner_count },
    { header: t('columns.created'), value: (r) => r.created_at },
  ];

  return (
    <>
      <PageTitle>{t('list.title')}</PageTitle>
      <SearchForm
        query={q}
        onSearch={search}
        label={t('list.search')}
        hint={t('list.searchHint')}
        formLabel={t('list.searchLabel')}
        submitLabel={t('list.searchSubmit')}
      >
        <ExportCsvButton filename="tenants" columns={columns} fetchPage={(cursor) => fetchTenantsPage(q, cursor)} />
      </SearchForm>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />
      ) : rows.length === 0 && !list.hasNextPage ? (
        <Empty>{q ? t('list.noMatch', { q }) : t('list.empty')}</Empty>
      ) : (
        <>
          <table>
            <caption className="visually-hidden">{t('list.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('columns.name')}</th>
                <th scope="col">{t('columns.id')}</th>
                <th scope="col">{t('columns.status')}</th>
                <th scope="col">{t('columns.owners')}</th>
                <th scope="col">{t('columns.created')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((tenant) => (
                <tr key={tenant.id}>
                  <th scope="row">
                    <Link to={`/admin/tenants/${tenant.id}`}>{tenant.name}</Link>
                  </th>
                  <td>
                    <code>{tenant.id}</code>
                  </td>
                  <td>
                    <span className="badge" data-status={tenant.status === 'suspended' ? 'failed' : 'running'}>
                      {t(`status.${tenant.status}`, { defaultValue: tenant.status })}
                    </span>
                  </td>
                  <td>{tenant.owner_count ?? '–'}</td>
                  <td>{formatDate(tenant.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.hasNextPage && (
            <button
              type="button"
              className="button"
              data-variant="secondary"
              disabled={list.isFetchingNextPage}
              onClick={() => void list.fetchNextPage()}
            >
              {list.isFetchingNextPage ? t('list.loadingMore') : t('list.more')}
            </button>
          )}
        </>
      )}
    </>
  );
}
