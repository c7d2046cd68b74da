import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { Pager } from '@/components/Pager';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading } from '@/components/States';
import { formatDate } from '@/lib/format';
import { notificationLink, useMarkRead, useNotifications, type Notification } from '../api/notifications';
import '../components/notifications.css';

/** The notification list: newest first, unread marked, each with its link; mark one or all read. */
export function NotificationsPage() {
  const { t } = useTranslation('notifications');
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const list = useNotifications(unreadOnly, cursors[cursors.length - 1]);
  const markRead = useMarkRead();
  const items = list.data?.items ?? [];
  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <p>
        <Link to="/account/notifications">{t('list.preferences')}</Link>
      </p>
      <div className="button-row">
        <label className="checkbox">
          <input
            type="checkbox"
            checked={unreadOnly}
            onChange={(e) => {
              setUnreadOnly(e.target.checked);
              setCursors([undefined]);
            }}
          />{' '}
          {t('list.unreadOnly')}
        </label>
        <button type="button" className="button" data-variant="secondary" disabled={markRead.isPending} onClick={() => markRead.mutate({ all: true })}>
          {t('list.markAllRead')}
        </button>
      </div>
      {markRead.isError && <ErrorAlert error={markRead.error} />}
      {list.isPending ? (
        <Loading label={t('list.loading')} />
      ) : list.isError ? (
        <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        <Empty>{unreadOnly ? t('list.noneUnread') : t('list.empty')}</Empty>
      ) : (
        <ul className="notification-list" aria-label={t('list.label')}>
          {items.map((n) => (
            <NotificationItem key={n.id} n={n} onRead={() => markRead.mutate({ ids: [n.id] })} busy={markRead.isPending} />
          ))}
        </ul>
      )}
      <Pager cursors={cursors} next={list.data?.next_cursor} onChange={setCursors} />
    </>
  );
}

function NotificationItem({ n, onRead, busy }: { n: Notification; onRead: () => void; busy: boolean }) {
  const { t } = useTranslation('notifications');
  const title = t(`types.${n.type}.title`, { ...n.payload, defaultValue: n.summary });
  const link = notificationLink(n);
  const headingId = `notification-${n.id}`;
  return (
    <li className="card notification-item" data-unread={!n.read} data-severity={n.severity} aria-labelledby={headingId}>
      <div>
        <h2 id={headingId}>
          {!n.read && <span className="visually-hidden">{t('list.unread')} </span>}
          {title}
        </h2>
        <p className="muted">
          {t(`severity.${n.severity}`)} · <time dateTime={n.occurred_at}>{formatDate(n.occurred_at)}</time>
        </p>
        {link && (
          // Opening what it is about counts as reading it.
          <Link to={link} onClick={() => !n.read && onRead()}>
            {t('list.open', { what: title })}
          </Link>
        )}
      </div>
      {!n.read && (
        <button type="button" className="button" data-variant="secondary" disabled={busy} onClick={onRead} aria-label={t('list.markReadNamed', { what: title })}>
          {t('list.markRead')}
        </button>
      )}
    </li>
  );
}
