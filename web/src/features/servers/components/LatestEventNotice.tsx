import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { Notice } from '@/components/States';
import { formatDate } from '@/lib/format';
import { useServerEvents } from '../api/metrics';

const RECENT_MS = 24 * 3600 * 1000;

/**
 * On the server's main page: the newest crash, suspected out-of-memory stop or crash loop of the
 * last 24 hours, with a link to the full history (the Metrics tab). Nothing otherwise, and
 * nothing while the events load or when they cannot be read (the Metrics tab says why).
 */
export function LatestEventNotice({ tenantId, serverId, now = Date.now() }: { tenantId: string; serverId: string; now?: number }) {
  const { t } = useTranslation('metrics');
  const events = useServerEvents(tenantId, serverId);
  const newest = events.data?.pages[0]?.items[0];
  if (!newest?.at || now - Date.parse(newest.at) > RECENT_MS) return null;
  const kind = newest.type.replace(/^server\./, '');
  return (
    <Notice tone="warning">
      {t('events.recent', { what: t(`events.type.${kind}`), at: formatDate(newest.at) })}{' '}
      <Link to={`/t/${tenantId}/servers/${serverId}/metrics`}>{t('events.seeAll')}</Link>
    </Notice>
  );
}
