import { useTranslation } from 'react-i18next';
import { formatDate } from '@/lib/format';
import type { Node } from '../api/nodes';

const KNOWN = ['online', 'offline', 'unauthorized', 'unknown'];

/** The node's health from the last probe (online, offline, token refused, not probed yet). */
export function NodeHealth({ node, detail = false }: { node: Node; detail?: boolean }) {
  const { t } = useTranslation('adminNodes');
  const health = node.health;
  const status = health && KNOWN.includes(health.status) ? health.status : 'unknown';
  return (
    <>
      <span className="badge" data-status={status === 'online' ? 'running' : status === 'unknown' ? undefined : 'failed'}>
        {t(`health.${status}`)}
      </span>
      {detail && health?.last_seen_at && (
        <span className="muted"> {t('health.lastSeen', { at: formatDate(health.last_seen_at) })}</span>
      )}
    </>
  );
}

/** Maintenance (or drained): no new servers are placed on the node. */
export function MaintenanceBadge({ node }: { node: Node }) {
  const { t } = useTranslation('adminNodes');
  if (!node.maintenance) return null;
  return (
    <span className="badge" data-status="maintenance">
      {t('maintenance.badge')}
    </span>
  );
}
