import { useTranslation } from 'react-i18next';
import { NavLink } from 'react-router';

/**
 * The server's sub-pages as a list of links (each is its own route, so the browser's back
 * button and deep links work). Add a sub-page: one entry here and one route in app/router.tsx.
 */
export function ServerTabs({ tenantId, serverId }: { tenantId: string; serverId: string }) {
  const { t } = useTranslation();
  const base = `/t/${tenantId}/servers/${serverId}`;
  const tabs = [
    { to: base, label: t('servers:tabs.console'), end: true },
    { to: `${base}/files`, label: t('servers:tabs.files'), end: false },
    { to: `${base}/metrics`, label: t('metrics:tab'), end: false },
    { to: `${base}/backups`, label: t('backups:tab'), end: false },
    { to: `${base}/schedules`, label: t('schedules:tab'), end: false },
    { to: `${base}/settings`, label: t('serverSettings:tab'), end: false },
  ];
  return (
    <nav className="tabs" aria-label={t('servers:tabs.label')}>
      <ul role="list" className="button-row tab-list">
        {tabs.map((tab) => (
          <li key={tab.to}>
            <NavLink to={tab.to} end={tab.end}>
              {tab.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
