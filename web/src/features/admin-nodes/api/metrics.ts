/** A node's usage history: the totals of its servers (docs/metrics.md). */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';
import { periodWindow, type Period } from '@/lib/metrics';

export function useNodeMetrics(nodeId: string, period: Period) {
  return useQuery({
    queryKey: ['admin', 'nodes', nodeId, 'metrics', period],
    queryFn: async () => {
      const { from, to } = periodWindow(period);
      // JSON here; the route's other media type (text/csv) is fetchNodeMetricsCsv's.
      return unwrap(
        await api.GET('/v1/admin/nodes/{node_id}/metrics', {
          params: { path: { node_id: nodeId }, query: { from: String(from), to: String(to), resolution: 'auto' } },
        }),
      ) as components['schemas']['MetricsOut'];
    },
    placeholderData: keepPreviousData,
    refetchInterval: period === '1h' ? 60_000 : false,
  });
}

export async function fetchNodeMetricsCsv(nodeId: string, period: Period): Promise<string> {
  const { from, to } = periodWindow(period);
  return unwrap(
    await api.GET('/v1/admin/nodes/{node_id}/metrics', {
      params: { path: { node_id: nodeId }, query: { from: String(from), to: String(to), resolution: 'auto', format: 'csv' } },
      parseAs: 'text',
    }),
  ) as string;
}
