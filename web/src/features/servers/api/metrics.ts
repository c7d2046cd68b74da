/** A server's usage history and its event history (docs/metrics.md). */
import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';
import { periodWindow, type Period } from '@/lib/metrics';

export type MetricsOut = components['schemas']['MetricsOut'];
export type ServerEvent = components['schemas']['ServerEventOut'];

const serverPath = (tenantId: string, serverId: string) => ({ tenant_id: tenantId, server_id: serverId });

/** The last hour is re-read every minute (a sample a minute); longer periods change too slowly to poll. */
const refreshFor = (period: Period) => (period === '1h' ? 60_000 : false);

export function useServerMetrics(tenantId: string, serverId: string, period: Period) {
  return useQuery({
    queryKey: ['tenants', tenantId, 'servers', serverId, 'metrics', period],
    queryFn: async () => {
      const { from, to } = periodWindow(period);
      // JSON here; the route's other media type (text/csv) is fetchServerMetricsCsv's.
      return unwrap(
        await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}/metrics', {
          params: { path: serverPath(tenantId, serverId), query: { from: String(from), to: String(to), resolution: 'auto' } },
        }),
      ) as MetricsOut;
    },
    placeholderData: keepPreviousData,
    refetchInterval: refreshFor(period),
  });
}

/** The same range as CSV, straight from the API (`?format=csv`), for the download. */
export async function fetchServerMetricsCsv(tenantId: string, serverId: string, period: Period): Promise<string> {
  const { from, to } = periodWindow(period);
  return unwrap(
    await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}/metrics', {
      params: { path: serverPath(tenantId, serverId), query: { from: String(from), to: String(to), resolution: 'auto', format: 'csv' } },
      parseAs: 'text',
    }),
  ) as string;
}

/** Crashes, suspected out-of-memory stops and crash loops, newest first; "Show older" follows the cursor. */
export function useServerEvents(tenantId: string, serverId: string) {
  return useInfiniteQuery({
    queryKey: ['tenants', tenantId, 'servers', serverId, 'events'],
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}/events', {
          params: { path: serverPath(tenantId, serverId), query: { limit: '20', cursor: pageParam ?? undefined } },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? null,
    refetchInterval: 60_000,
  });
}
