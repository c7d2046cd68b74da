import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import { PageTitle } from '@/components/PageTitle';
import { SearchForm, useSearchQuery } from '@/components/SearchForm';
import { Empty, ErrorAlert, Loading } from '@/components/States';
import type { CsvColumn } from '@/lib/csv';
import { formatDate } from '@/lib/format';
import { fetchUsersPage, useAdminUsers, type AdminUser } from '../api/users';

/** Every account, searchable by email, name or id, each linking to its detail; CSV export of the search. */
export function UsersPage() {
  const { t } = useTranslation('adminUsers');
  const [q, search] = useSearchQuery();
  const list = useAdminUsers(q);
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];

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
        <ExportCsvButton filename="users" columns={columns} fetchPage={(cursor) => fetchUsersPage(q, cursor)} />
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
                <th scope="col">{t('columns.email')}</th>
                <th scope="col">{t('columns.name')}</th>
                <th scope="col">{t('columns.status')}</th>
                <th scope="col">{t('columns.admin')}</th>
                <th scope="col">{t('columns.twoFactor')}</th>
                <th scope="col">{t('columns.verified')}</th>
                <th scope="col">{t('columns.created')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((user) => (
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
