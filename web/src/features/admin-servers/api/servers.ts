/** Servers across tenants for the platform admin (docs/operations.md "Admin API: the fleet"). */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type AdminServer = components['schemas']['AdminServerOut'];
export type AdminServerDetail = components['schemas']['AdminServerDetailOut'];

export interface ServerFilters {
  status: string;
  node_id: string;
  tenant_id: string;
  q: string;
}

export const NO_SERVER_FILTERS: ServerFilters = { status: '', node_id: '', tenant_id: '', q: '' };

/** The lifecycle statuses the API stores (mamba.domain.servers.STATUSES), for the filter. */
export const SERVER_STATUSES = [
  'provisioning',
  'installing',
  'install_failed',
  'offline',
  'starting',
  'running',
  'stopping',
  'suspended',
  'deleting',
  'failed',
  'restoring',
] as const;

const serversKey = ['admin', 'servers'] as const;

/** One page with these filters; the export reads them all through it. */
export async function fetchServersPage(filters: ServerFilters, cursor: string | undefined, limit = 100) {
  return unwrap(
    await api.GET('/v1/admin/servers', {
      params: {
        query: {
          limit,
          cursor,
          status: filters.status || undefined,
          node_id: filters.node_id || undefined,
          tenant_id: filters.tenant_id || undefined,
          q: filters.q || undefined,
        },
      },
    }),
  );
}

/** A filtered page may be short, even empty, while next_cursor leads on ("Load more"). */
export function useAdminServers(filters: ServerFilters) {
  return useInfiniteQuery({
    queryKey: [...serversKey, 'list', filters],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => fetchServersPage(filters, pageParam ?? undefined, 50),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

const SETTLING = new Set(['provisioning', 'installing', 'deleting', 'starting', 'stopping', 'restoring']);

export function useAdminServer(serverId: string) {
  return useQuery({
    queryKey: [...serversKey, serverId],
    queryFn: async () =>
      unwrap(await api.GET('/v1/admin/servers/{server_id}', { params: { path: { server_id: serverId } } })),
    refetchInterval: (query) => (query.state.data && SETTLING.has(query.state.data.status) ? 3000 : false),
  });
}

export type ServerAction = 'suspend' | 'unsuspend' | 'force-delete';

/** Suspend, unsuspend or force-delete: each answers 202 with the operation it started. */
export function useServerAction(serverId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (action: ServerAction) => {
      const params = { params: { path: { server_id: serverId } } };
      if (action === 'suspend') return unwrap(await api.POST('/v1/admin/servers/{server_id}/suspend', params));
      if (action === 'unsuspend') return unwrap(await api.POST('/v1/admin/servers/{server_id}/unsuspend', params));
      return unwrap(await api.POST('/v1/admin/servers/{server_id}/force-delete', params));
    },
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: serversKey }),
  });
}
