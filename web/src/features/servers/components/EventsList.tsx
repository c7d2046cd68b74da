import { useTranslation } from 'react-i18next';
import { Empty, ErrorAlert, Loading } from '@/components/States';
import { formatDate, formatPercent } from '@/lib/format';
import { useServerEvents, type ServerEvent } from '../api/metrics';

/** The server's event history (crash, suspected out-of-memory, crash loop), newest first. */
export function EventsList({ tenantId, serverId }: { tenantId: string; serverId: string }) {
  const { t } = useTranslation('metrics');
  const events = useServerEvents(tenantId, serverId);
  const items = events.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="events-heading" className="metrics-events">
      <h2 id="events-heading">{t('events.title')}</h2>
      {events.isPending ? (
        <Loading label={t('events.loading')} />
      ) : events.isError ? (
        <ErrorAlert error={events.error} onRetry={() => void events.refetch()} />
      ) : items.length === 0 ? (
        <Empty>{t('events.empty')}</Empty>
      ) : (
        <>
          <ol>
            {items.map((event) => (
              <EventItem key={event.id} event={event} />
            ))}
          </ol>
          {events.hasNextPage && (
            <p>
              <button
                type="button"
                className="button"
                data-variant="secondary"
                disabled={events.isFetchingNextPage}
                onClick={() => void events.fetchNextPage()}
              >
                {t('events.more')}
              </button>
            </p>
          )}
        </>
      )}
    </section>
  );
}

const KINDS = { 'server.crashed': 'crashed', 'server.oom_suspected': 'oom_suspected', 'server.crash_loop': 'crash_loop' } as const;

function EventItem({ event }: { event: ServerEvent }) {
  const { t } = useTranslation('metrics');
  const kind = KINDS[event.type];
  const details = event.details ?? {};
  const memory = details.memory_bytes;
  const limit = details.memory_limit_bytes;
  const percent = typeof memory === 'number' && typeof limit === 'number' && limit > 0 ? formatPercent((memory / limit) * 100) : '—';
  const count = typeof details.crashes === 'number' ? details.crashes : 3;
  return (
    <li>
      <strong>{t(`events.type.${kind}`)}</strong>{' '}
      {event.at && <time dateTime={event.at}>{formatDate(event.at)}</time>}
      <p className="muted">{t(`events.detail.${kind}`, { percent, count })}</p>
    </li>
  );
}
