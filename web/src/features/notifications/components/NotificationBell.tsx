import { useTranslation } from 'react-i18next';
import { NavLink } from 'react-router';
import { useSyncPanelLanguage, useUnreadCount } from '../api/notifications';
import './notifications.css';

/** The header's bell: a link to the notification list that says how many are unread. */
export function NotificationBell() {
  const { t, i18n } = useTranslation('notifications');
  const unread = useUnreadCount();
  // Mounted on every signed-in page: the mails follow the panel's language until one is chosen.
  useSyncPanelLanguage(i18n.resolvedLanguage);
  const count = unread.data ?? 0;
  return (
    <NavLink to="/notifications" className="notification-bell" aria-label={t('bell.label', { count })}>
      <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" focusable="false">
        <path
          fill="currentColor"
          d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
        />
      </svg>
      {count > 0 && (
        <span className="notification-count" aria-hidden="true">
          {count > 99 ? '99+' : count}
        </span>
      )}
    </NavLink>
  );
}
