import { Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, Outlet } from 'react-router';
import { ErrorAlert, Loading } from '@/components/States';
import { useMe } from '@/features/auth/api/session';
import { NotFound } from './NotFound';

/** The admin pages' sections, in the order of the side navigation. */
export const ADMIN_SECTIONS = [
  { path: '/admin', key: 'overview', end: true },
  { path: '/admin/nodes', key: 'nodes' },
  { path: '/admin/blueprints', key: 'blueprints' },
  { path: '/admin/plans', key: 'plans' },
  { path: '/admin/tenants', key: 'tenants' },
  { path: '/admin/users', key: 'users' },
  { path: '/admin/servers', key: 'servers' },
  { path: '/admin/operations', key: 'operations' },
  { path: '/admin/dead-letters', key: 'deadLetters' },
  { path: '/admin/audit', key: 'audit' },
  { path: '/admin/application-keys', key: 'applicationKeys' },
] as const;

/**
 * Every /admin page sits in this layout: only a platform admin sees it (anyone else gets the
 * ordinary "page not found", as the API answers 403 anyway), with the admin section navigation.
 */
export function AdminLayout() {
  const { t } = useTranslation('admin');
  const me = useMe();
  if (me.isPending) return <Loading />;
  if (me.isError) return <ErrorAlert error={me.error} onRetry={() => void me.refetch()} />;
  if (!me.data.is_admin) return <NotFound />;
  return (
    <div className="admin-layout">
      <nav className="admin-nav" aria-label={t('nav.label')}>
        <ul>
          {ADMIN_SECTIONS.map((s) => (
            <li key={s.key}>
              <NavLink to={s.path} end={'end' in s && s.end}>
                {t(`nav.${s.key}`)}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="admin-content">
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </div>
    </div>
  );
}
