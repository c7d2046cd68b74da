import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { MetricsPanel } from '@/components/metrics/MetricsPanel';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert, Loading } from '@/components/States';
import { fileSlug, type Period } from '@/lib/metrics';
import { fetchServerMetricsCsv, useServerMetrics } from '../api/metrics';
import { useServer } from '../api/servers';
import { EventsList } from '../components/EventsList';
import { ServerTabs } from '../components/ServerTabs';

/** A server's usage history (charts, table, CSV) and its events: a tab of the server page. */
export function MetricsPage() {
  const { t } = useTranslation('metrics');
  const { tenantId = '', serverId = '' } = useParams();
  const server = useServer(tenantId, serverId);
  const [period, setPeriod] = useState<Period>('24h');
  const metrics = useServerMetrics(tenantId, serverId, period);
  if (server.isPending) return <Loading />;
  if (server.isError) return <ErrorAlert error={server.error} onRetry={() => void server.refetch()} />;
  return (
    <>
      <PageTitle>{t('page.title', { server: server.data.name })}</PageTitle>
      <ServerTabs tenantId={tenantId} serverId={serverId} />
      <MetricsPanel
        title={t('serverTitle')}
        period={period}
        onPeriodChange={setPeriod}
        query={metrics}
        downloadCsv={() => fetchServerMetricsCsv(tenantId, serverId, period)}
        csvName={`${fileSlug(server.data.name)}-metrics`}
      />
      <EventsList tenantId={tenantId} serverId={serverId} />
    </>
  );
}
