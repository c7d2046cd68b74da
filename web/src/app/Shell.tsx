import { Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, NavLink, Outlet, useNavigate, useParams } from 'react-router';
import { Loading } from '@/components/States';
import { useMe, useSessionState, useSignOut } from '@/features/auth/api/session';
import { NotificationBell } from '@/features/notifications/components/NotificationBell';
import { TenantSwitcher } from '@/features/tenants/components/TenantSwitcher';
import { LANGUAGES } from '@/lib/i18n';

function LanguagePicker() {
  const { t, i18n } = useTranslation();
  return (
    <div className="field">
      <label htmlFor="language-picker" className="visually-hidden">
        {t('common:language.label')}
      </label>
      <select id="language-picker" value={i18n.resolvedLanguage} onChange={(e) => void i18n.changeLanguage(e.target.value)}>
        {LANGUAGES.map((lng) => (
          <option key={lng} value={lng}>
            {t(`common:language.${lng}`)}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Header (brand, tenant switcher, nav, account), skip link and the main landmark. */
export function Shell() {
  const { t } = useTranslation();
  const state = useSessionState();
  const me = useMe();
  const signOut = useSignOut();
  const navigate = useNavigate();
  const { tenantId } = useParams();
  return (
    <>
      <a className="skip-link" href="#main">
        {t('common:nav.skip')}
      </a>
      <header className="shell-header">
        <Link to="/" className="brand">
          {t('common:app.name')}
        </Link>
        {state === 'signed-in' && <TenantSwitcher />}
        {state === 'signed-in' && tenantId && (
          <nav className="shell-nav" aria-label={t('common:nav.label')}>
            <ul>
              <li>
                <NavLink to={`/t/${tenantId}`} end>
                  {t('common:nav.dashboard')}
                </NavLink>
              </li>
              <li>
                <NavLink to={`/t/${tenantId}/servers/new`}>{t('common:nav.newServer')}</NavLink>
              </li>
              <li>
                <NavLink to={`/t/${tenantId}/members`}>{t('members:nav')}</NavLink>
              </li>
              <li>
                <NavLink to={`/t/${tenantId}/billing`}>{t('billing:nav')}</NavLink>
              </li>
              <li>
                <NavLink to={`/t/${tenantId}/webhooks`}>{t('webhooks:nav')}</NavLink>
              </li>
            </ul>
          </nav>
        )}
        {state === 'signed-in' && me.data?.is_admin && (
          <NavLink to="/admin" className="admin-link">
            {t('admin:nav.link')}
          </NavLink>
        )}
        <LanguagePicker />
        {state === 'signed-in' && (
          <>
            <NotificationBell />
            {me.data && (
              <Link to="/account">{t('account:nav', { who: me.data.name || me.data.email })}</Link>
            )}
            <button
              type="button"
              className="button"
              data-variant="secondary"
              onClick={() => void signOut().then(() => navigate('/sign-in'))}
            >
              {t('common:nav.signOut')}
            </button>
          </>
        )}
      </header>
      <main id="main">
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
    </>
  );
}
