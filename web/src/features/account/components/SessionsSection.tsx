import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { formatDate } from '@/lib/format';
import { useRevokeSession, useSessions, type AccountSession } from '../api/sessions';

/** Where the account is signed in: each session with its device, IP and last use; "this device" marked; sign out the others. */
export function SessionsSection() {
  const { t } = useTranslation('account');
  const sessions = useSessions();
  const revoke = useRevokeSession();
  const [asking, setAsking] = useState<AccountSession | null>(null);
  const items = sessions.data?.pages.flatMap((page) => page.items) ?? [];
  const device = (s: AccountSession) => s.user_agent ?? t('devices.unknownDevice');
  return (
    <section className="card" aria-labelledby="devices-heading">
      <h2 id="devices-heading">{t('devices.title')}</h2>
      <p>{t('devices.body')}</p>
      {sessions.isPending ? (
        <Loading />
      ) : sessions.isError ? (
        <ErrorAlert error={sessions.error} onRetry={() => void sessions.refetch()} />
      ) : items.length === 0 && !sessions.hasNextPage ? (
        <Empty>{t('devices.empty')}</Empty>
      ) : (
        <>
          {revoke.isError && <ErrorAlert error={revoke.error} />}
          {revoke.isSuccess && <Notice tone="success">{t('devices.revoked')}</Notice>}
          <table>
            <caption className="visually-hidden">{t('devices.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('devices.device')}</th>
                <th scope="col">{t('devices.ip')}</th>
                <th scope="col">{t('devices.signedIn')}</th>
                <th scope="col">{t('devices.lastUsed')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('devices.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id}>
                  <th scope="row">
                    {device(s)}{' '}
                    {s.current && <span className="badge" data-status="running">{t('devices.thisDevice')}</span>}
                  </th>
                  <td>{s.ip ?? t('devices.unknown')}</td>
                  <td>{formatDate(s.created_at)}</td>
                  <td>{s.last_used_at ? formatDate(s.last_used_at) : t('devices.notSince')}</td>
                  <td>
                    {s.current ? (
                      <span className="muted">{t('devices.currentHint')}</span>
                    ) : (
                      <button
                        type="button"
                        className="button"
                        data-variant="secondary"
                        aria-label={t('devices.signOutNamed', { device: device(s) })}
                        onClick={() => setAsking(s)}
                      >
                        {t('devices.signOut')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {sessions.hasNextPage && (
            <button type="button" className="button" data-variant="secondary" disabled={sessions.isFetchingNextPage} onClick={() => void sessions.fetchNextPage()}>
              {t('devices.more')}
            </button>
          )}
        </>
      )}
      <ConfirmDialog
        isOpen={asking !== null}
        title={t('devices.confirmTitle')}
        confirmLabel={t('devices.signOut')}
        danger
        busy={revoke.isPending}
        onCancel={() => setAsking(null)}
        onConfirm={() => asking && revoke.mutate(asking.id, { onSettled: () => setAsking(null) })}
      >
        <p>{asking && t('devices.confirmBody', { device: device(asking), when: formatDate(asking.created_at) })}</p>
      </ConfirmDialog>
    </section>
  );
}
