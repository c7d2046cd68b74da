import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert, Loading } from '@/components/States';
import { useServer } from '@/features/server-settings/api/settings';
import { ServerTabs } from '@/features/servers/components/ServerTabs';
import { SchedulesTab } from '../components/SchedulesTab';
import '../schedules.css';

/** A server's schedules (a tab of the server page). */
export function SchedulesPage() {
  const { tenantId = '', serverId = '' } = useParams();
  const { t } = useTranslation('schedules');
  const server = useServer(tenantId, serverId);
  if (server.isPending) return <Loading />;
  if (server.isError) return <ErrorAlert error={server.error} onRetry={() => void server.refetch()} />;
  return (
    <>
      <PageTitle>{t('page.title', { server: server.data.name })}</PageTitle>
      <ServerTabs tenantId={tenantId} serverId={serverId} />
      <SchedulesTab tenantId={tenantId} serverId={serverId} />
    </>
  );
}
