import { useTranslation } from 'react-i18next';
import { formatDate } from '@/lib/format';
import type { Webhook } from '../api/webhooks';

/** Enabled, disabled by a member, or disabled by the panel after 3 days of failures; failing since when. */
export function StatusBadge({ webhook }: { webhook: Webhook }) {
  const { t } = useTranslation('webhooks');
  if (!webhook.enabled) {
    return <span className="badge">{webhook.disabled_reason === 'failing' ? t('status.disabledFailing') : t('status.disabled')}</span>;
  }
  if (webhook.failing_since) {
    return <span className="badge">{t('status.failingSince', { when: formatDate(webhook.failing_since) })}</span>;
  }
  return <span className="badge">{t('status.enabled')}</span>;
}
