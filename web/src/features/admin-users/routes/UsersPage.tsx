import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { SearchableList } from '@/components/SearchableList';
import type { CsvColumn } from '@/lib/csv';
import { formatDate } from '@/lib/format';
import { fetchUsersPage, useAdminUsers, type AdminUser } from '../api/users';

/** Every account, searchable by email, name or id, each linking to its detail; CSV export of the search. */
export function UsersPage() {
  const { t } = useTranslation('adminUsers');
  const yesNo = (value: boolean) => (value ? t('yes') : t('no'));
  const columns: CsvColumn<AdminUser>[] = [
    { header: t('columns.id'), value: (r) => r.id },
    { header: t('columns.email'), value: (r) => r.email },
    { header: t('columns.name'), value: (r) => r.name },
    { header: t('columns.status'), value: (r) => r.status },
    { header: t('columns.admin'), value: (r) => r.is_admin },
    { header: t('columns.twoFactor'), value: (r) => r.totp_enabled },
    { header: t('columns.verified'), value: (r) => r.email_verified },
    { header: t('columns.created'), value: (r) => r.created_at },
  ];
  return (
    <SearchableList
      ns="adminUsers"
      csvName="users"
      columns={columns}
      useList={useAdminUsers}
      fetchPage={fetchUsersPage}
      head={
        <>
          <th scope="col">{t('columns.email')}</th>
          <th scope="col">{t('columns.name')}</th>
          <th scope="col">{t('columns.status')}</th>
          <th scope="col">{t('columns.admin')}</th>
          <th scope="col">{t('columns.twoFactor')}</th>
          <th scope="col">{t('columns.verified')}</th>
          <th scope="col">{t('columns.created')}</th>
        </>
      }
      row={(user) => (
        <tr key={user.id}>
          <th scope="row">
            <Link to={`/admin/users/${user.id}`}>{user.email}</Link>
          </th>
          <td>{user.name ?? '–'}</td>
          <td>
            <span className="badge" data-status={user.status === 'suspended' ? 'failed' : 'running'}>
              {t(`status.${user.status}`, { defaultValue: user.status })}
            </span>
          </td>
          <td>{yesNo(user.is_admin)}</td>
          <td>{yesNo(user.totp_enabled)}</td>
          <td>{yesNo(user.email_verified)}</td>
          <td>{formatDate(user.created_at)}</td>
        </tr>
      )}
    />
  );
}
