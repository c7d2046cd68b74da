/** One server's settings: rename, limits, environment, reinstall, delete (docs/server-lifecycle.md). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type Server = components['schemas']['ServerOut'];
export type ServerPatch = components['schemas']['ServerPatch'];
export type Blueprint = components['schemas']['CatalogBlueprintOut'];

export const serverKey = (tenantId: string, serverId: string) => ['tenants', tenantId, 'servers', serverId] as const;

export function useServer(tenantId: string, serverId: string) {
  return useQuery({
    queryKey: serverKey(tenantId, serverId),
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}', {
          params: { path: { tenant_id: tenantId, server_id: serverId } },
        }),
      ),
  });
}

/** The server's blueprint from the tenant catalog: its variables, rules and defaults. */
export function useBlueprint(tenantId: string, blueprintId: string | undefined) {
  return useQuery({
    queryKey: ['tenants', tenantId, 'blueprints'],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/blueprints', {
          params: { path: { tenant_id: tenantId }, query: { limit: 100 } },
        }),
      ),
    enabled: blueprintId !== undefined,
    select: (list) => list.items.find((b) => b.id === blueprintId) ?? null,
  });
}

export function useUsage(tenantId: string) {
  return useQuery({
    queryKey: ['tenants', tenantId, 'usage'],
    queryFn: async () =>
      unwrap(await api.GET('/v1/tenants/{tenant_id}/usage', { params: { path: { tenant_id: tenantId } } })),
  });
}

export function useUpdateServer(tenantId: string, serverId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: ServerPatch) =>
      unwrap(
        await api.PATCH('/v1/tenants/{tenant_id}/servers/{server_id}', {
          params: { path: { tenant_id: tenantId, server_id: serverId } },
          body,
        }),
      ),
    onSuccess: (reply) => {
      client.setQueryData(serverKey(tenantId, serverId), reply.server);
      return client.invalidateQueries({ queryKey: ['tenants', tenantId, 'usage'] });
    },
  });
}

export function useReinstall(tenantId: string, serverId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/servers/{server_id}/reinstall', {
          params: { path: { tenant_id: tenantId, server_id: serverId } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: serverKey(tenantId, serverId) }),
  });
}

export function useDeleteServer(tenantId: string, serverId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      unwrap(
        await api.DELETE('/v1/tenants/{tenant_id}/servers/{server_id}', {
          params: { path: { tenant_id: tenantId, server_id: serverId } },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: ['tenants', tenantId, 'servers'] }),
  });
}

/**
 * The most this server may have of a tenant-wide quota: what is left of it plus what the
 * server holds now (its own share is freed by the change). Undefined when unlimited.
 */
export function maxFor(quota: { used: number; limit: number; unlimited: boolean } | undefined, current: number): number | undefined {
  if (!quota || quota.unlimited || quota.limit < 0) return undefined;
  return Math.max(current, quota.limit - quota.used + current);
}
