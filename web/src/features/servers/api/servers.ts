/** Servers, the catalog a create form needs, operations and power (all through `api`). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type Server = components['schemas']['ServerOut'];
export type Operation = components['schemas']['OperationOut'];
export type Blueprint = components['schemas']['CatalogBlueprintOut'];
export type ServerIn = components['schemas']['ServerIn'];
export type PowerAction = components['schemas']['PowerIn']['action'];

const path = (tenantId: string) => ({ params: { path: { tenant_id: tenantId } } });
const serverPath = (tenantId: string, serverId: string) => ({
  params: { path: { tenant_id: tenantId, server_id: serverId } },
});

export const serversKey = (tenantId: string) => ['tenants', tenantId, 'servers'] as const;
export const serverKey = (tenantId: string, serverId: string) => ['tenants', tenantId, 'servers', serverId] as const;

/** Statuses that change by themselves: lists and pages poll while one is showing. */
export const SETTLING = new Set(['provisioning', 'installing', 'reinstalling', 'restoring', 'starting', 'stopping', 'deleting']);

export function useServers(tenantId: string) {
  return useQuery({
    queryKey: serversKey(tenantId),
    queryFn: async () =>
      unwrap(await api.GET('/v1/tenants/{tenant_id}/servers', { params: { path: { tenant_id: tenantId }, query: { limit: 100 } } })),
    refetchInterval: (query) => (query.state.data?.items.some((s) => SETTLING.has(s.status)) ? 3000 : 15000),
  });
}

export function useServer(tenantId: string, serverId: string) {
  return useQuery({
    queryKey: serverKey(tenantId, serverId),
    queryFn: async () => unwrap(await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}', serverPath(tenantId, serverId))),
    refetchInterval: (query) => (query.state.data && SETTLING.has(query.state.data.status) ? 3000 : false),
  });
}

export function useBlueprints(tenantId: string) {
  return useQuery({
    queryKey: ['tenants', tenantId, 'blueprints'],
    queryFn: async () =>
      unwrap(await api.GET('/v1/tenants/{tenant_id}/blueprints', { params: { path: { tenant_id: tenantId }, query: { limit: 100 } } })),
    staleTime: 5 * 60_000,
  });
}

export function useLocations(tenantId: string, memoryMb: number, diskMb: number) {
  return useQuery({
    queryKey: ['tenants', tenantId, 'locations', memoryMb, diskMb],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/locations', {
          params: { path: { tenant_id: tenantId }, query: { memory_mb: String(memoryMb), disk_mb: String(diskMb) } },
        }),
      ),
    placeholderData: (previous) => previous,
  });
}

export function useUsage(tenantId: string) {
  return useQuery({
    queryKey: ['tenants', tenantId, 'usage'],
    queryFn: async () => unwrap(await api.GET('/v1/tenants/{tenant_id}/usage', path(tenantId))),
  });
}

export function usePlans() {
  return useQuery({
    queryKey: ['plans'],
    queryFn: async () => unwrap(await api.GET('/v1/plans')),
    staleTime: 10 * 60_000,
  });
}

export function useCreateServer(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: ServerIn) => unwrap(await api.POST('/v1/tenants/{tenant_id}/servers', { ...path(tenantId), body })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: serversKey(tenantId) });
      void client.invalidateQueries({ queryKey: ['tenants', tenantId, 'usage'] });
    },
  });
}

const FINISHED = new Set(['succeeded', 'failed']);

/** An operation, polled every second until it succeeds or fails. */
export function useOperation(tenantId: string, operationId: string) {
  return useQuery({
    queryKey: ['tenants', tenantId, 'operations', operationId],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/operations/{op_id}', {
          params: { path: { tenant_id: tenantId, op_id: operationId } },
        }),
      ),
    refetchInterval: (query) => (query.state.data && FINISHED.has(query.state.data.status) ? false : 1000),
  });
}

/** The power state straight from the node (GET .../resources), polled while `poll` holds. */
export function useResources(tenantId: string, serverId: string, poll: (state: string | undefined) => boolean, enabled = true) {
  return useQuery({
    queryKey: [...serverKey(tenantId, serverId), 'resources'],
    queryFn: async () =>
      unwrap(await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}/resources', serverPath(tenantId, serverId))),
    enabled,
    refetchInterval: (query) => (poll(query.state.data?.state) ? 1500 : false),
  });
}

export function usePower(tenantId: string, serverId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (action: PowerAction) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/servers/{server_id}/power', { ...serverPath(tenantId, serverId), body: { action } }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: serverKey(tenantId, serverId) }),
  });
}

/** A fresh websocket token (10 minutes) and the socket URL: the console asks again on `token expiring`. */
export async function fetchWebsocketToken(tenantId: string, serverId: string) {
  return unwrap(await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}/websocket', serverPath(tenantId, serverId)));
}

export function useWebsocketGrant(tenantId: string, serverId: string) {
  return useQuery({
    queryKey: [...serverKey(tenantId, serverId), 'websocket'],
    queryFn: () => fetchWebsocketToken(tenantId, serverId),
    staleTime: 5 * 60_000,
  });
}
