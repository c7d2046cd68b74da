import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { KeptBackups } from '../components/KeptBackups';

/** The tenant's backups of deleted servers (/t/:tenantId/backups). */
export function KeptBackupsPage() {
  const { tenantId = '' } = useParams();
  const { t } = useTranslation('backups');
  return (
    <>
      <PageTitle>{t('kept.pageTitle')}</PageTitle>
      <KeptBackups tenantId={tenantId} />
    </>
  );
}
