import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { SearchableList } from '@/components/SearchableList';
import type { CsvColumn } from '@/lib/csv';
import { formatDate } from '@/lib/format';
import { fetchTenantsPage, useAdminTenants, type AdminTenant } from '../api/tenants';

/** Every tenant, searchable by name or id, each linking to its detail; CSV export of the search. */
export function TenantsPage() {
  const { t } = useTranslation('adminTenants');
  const columns: CsvColumn<AdminTenant>[] = [
    { header: t('columns.id'), value: (r) => r.id },
    { header: t('columns.name'), value: (r) => r.name },
    { header: t('columns.status'), value: (r) => r.status },
    { header: t('columns.owners'), value: (r) => r.owner_count },
    { header: t('columns.created'), value: (r) => r.created_at },
  ];
  return (
    <SearchableList
      ns="adminTenants"
      csvName="tenants"
      columns={columns}
      useList={useAdminTenants}
      fetchPage={fetchTenantsPage}
      head={
        <>
          <th scope="col">{t('columns.name')}</th>
          <th scope="col">{t('columns.id')}</th>
          <th scope="col">{t('columns.status')}</th>
          <th scope="col">{t('columns.owners')}</th>
          <th scope="col">{t('columns.created')}</th>
        </>
      }
      row={(tenant) => (
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
      )}
    />
  );
}
