import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { Notice } from '@/components/States';
import { useKeptBackups } from '../api/backups';

/** On the dashboard: says that backups of deleted servers are kept (they still use storage),
 * with a link to them. Nothing when there are none, or when the member cannot read backups. */
export function KeptBackupsNotice({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('backups');
  const kept = useKeptBackups(tenantId);
  const count = kept.data?.items.length ?? 0;
  if (count === 0) return null;
  return (
    <Notice tone="info">
      {t('kept.notice', { count })} <Link to={`/t/${tenantId}/backups`}>{t('kept.open')}</Link>
    </Notice>
  );
}
