/** The fleet overview (GET /v1/admin/overview, docs/operations.md). */
import { useQuery } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type FleetOverview = components['schemas']['FleetOverview'];
export type NodeFigures = components['schemas']['NodeOverview'];

export const overviewKey = ['admin', 'overview'] as const;

/** The overview page re-reads the figures this often, in place (issue 12 item 4). */
export const OVERVIEW_REFRESH_MS = 30_000;

/**
 * The figures, re-read every 30 s while the page is open (also in a background tab: an
 * operator keeps it open on a wall screen). The nodes pages read the same query for the
 * committed memory and disk of each node, so both show the same numbers.
 */
export function useOverview(refetchInterval: number | false = OVERVIEW_REFRESH_MS) {
  return useQuery({
    queryKey: overviewKey,
    queryFn: async () => unwrap(await api.GET('/v1/admin/overview')),
    refetchInterval,
    refetchIntervalInBackground: true,
  });
}
