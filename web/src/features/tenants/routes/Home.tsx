import { useTranslation } from 'react-i18next';
import { Link, Navigate, useNavigation } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading } from '@/components/States';
import { useTenants } from '../api/tenants';

/** `/`: straight to the only tenant, a choice among several, or the way to make the first. */
export function Home() {
  const { t } = useTranslation();
  const tenants = useTenants();
  // A click made while the tenants load (say, on Admin in the header) is already on its way:
  // redirecting now would take the person somewhere they did not ask for.
  const leaving = useNavigation().state !== 'idle';
  if (tenants.isPending) return <Loading />;
  if (tenants.isError) return <ErrorAlert error={tenants.error} onRetry={() => tenants.refetch()} />;
  const items = tenants.data.items;
  if (items.length === 1 && items[0] && !leaving) return <Navigate to={`/t/${items[0].id}`} replace />;
  return (
    <>
      <PageTitle>{t('tenants:home.title')}</PageTitle>
      {items.length === 0 ? (
        <Empty
          action={
            <Link className="button" to="/tenants/new">
              {t('tenants:home.createFirst')}
            </Link>
          }
        >
          {t('tenants:home.empty')}
        </Empty>
      ) : (
        <ul>
          {items.map((tenant) => (
            <li key={tenant.id}>
              <Link to={`/t/${tenant.id}`}>{tenant.name}</Link>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
