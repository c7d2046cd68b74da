import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { MetricsPanel } from '@/components/metrics/MetricsPanel';
import { fileSlug, type Period } from '@/lib/metrics';
import { fetchNodeMetricsCsv, useNodeMetrics } from '../api/metrics';

/** The node's totals over time (CPU, memory against the sum of limits, network, disk). */
export function NodeMetricsSection({ nodeId, nodeName }: { nodeId: string; nodeName: string }) {
  const { t } = useTranslation('metrics');
  const [period, setPeriod] = useState<Period>('24h');
  const metrics = useNodeMetrics(nodeId, period);
  return (
    <MetricsPanel
      title={t('nodeTitle')}
      period={period}
      onPeriodChange={setPeriod}
      query={metrics}
      downloadCsv={() => fetchNodeMetricsCsv(nodeId, period)}
      csvName={`${fileSlug(nodeName)}-metrics`}
    />
  );
}
