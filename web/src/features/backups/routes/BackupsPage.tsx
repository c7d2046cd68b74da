import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { ServerTabs } from '@/features/servers/components/ServerTabs';
import { ErrorAlert, Loading } from '@/components/States';
import { useServer } from '@/features/server-settings/api/settings';
import { BackupsTab } from '../components/BackupsTab';

/** A server's backups (a tab of the server page). */
export function BackupsPage() {
  const { tenantId = '', serverId = '' } = useParams();
  const { t } = useTranslation('backups');
  const server = useServer(tenantId, serverId);
  if (server.isPending) return <Loading />;
  if (server.isError) return <ErrorAlert error={server.error} onRetry={() => void server.refetch()} />;
  return (
    <>
      <PageTitle>{t('page.title', { server: server.data.name })}</PageTitle>
      <ServerTabs tenantId={tenantId} serverId={serverId} />
      <BackupsTab tenantId={tenantId} serverId={serverId} serverName={server.data.name} />
    </>
  );
}
