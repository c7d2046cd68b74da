/** The node registry for platform admins (docs/nodes.md): nodes, their servers and allocations. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type Node = components['schemas']['NodeOut'];
export type NodeInput = components['schemas']['NodeIn'];
export type NodePatch = components['schemas']['NodePatch'];
export type Allocation = components['schemas']['AllocationList']['items'][number];
export type NodeServer = components['schemas']['NodeServerOut'];

export const nodesKey = ['admin', 'nodes'] as const;
export const nodeKey = (nodeId: string) => ['admin', 'nodes', nodeId] as const;
const allocationsKey = (nodeId: string) => ['admin', 'nodes', nodeId, 'allocations'] as const;
const serversKey = (nodeId: string) => ['admin', 'nodes', nodeId, 'servers'] as const;

/** Live state on the detail page and health on the list are re-read this often (the schedule probes every minute). */
export const LIVE_REFRESH_MS = 15_000;

export async function fetchNodesPage(cursor: string | undefined, limit = 100) {
  return unwrap(await api.GET('/v1/admin/nodes', { params: { query: { limit, ...(cursor ? { cursor } : {}) } } }));
}

/** One page of nodes (a fleet is small: 100 per page; "Load more" follows the cursor). */
export function useNodes(cursor: string | undefined) {
  return useQuery({
    queryKey: [...nodesKey, 'page', cursor ?? ''],
    queryFn: () => fetchNodesPage(cursor),
    placeholderData: keepPreviousData,
    refetchInterval: LIVE_REFRESH_MS,
  });
}

export function useNode(nodeId: string) {
  return useQuery({
    queryKey: nodeKey(nodeId),
    queryFn: async () => unwrap(await api.GET('/v1/admin/nodes/{node_id}', { params: { path: { node_id: nodeId } } })),
    refetchInterval: LIVE_REFRESH_MS,
  });
}

export function useCreateNode() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: NodeInput) => unwrap(await api.POST('/v1/admin/nodes', { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: nodesKey }),
  });
}

function useNodeMutation<T, R>(nodeId: string, run: (nodeId: string, input: T) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: T) => run(nodeId, input),
    onSettled: () => client.invalidateQueries({ queryKey: nodesKey }),
  });
}

export function useUpdateNode(nodeId: string) {
  return useNodeMutation(nodeId, async (id, body: NodePatch) =>
    unwrap(await api.PATCH('/v1/admin/nodes/{node_id}', { params: { path: { node_id: id } }, body })),
  );
}

export function useDrainNode(nodeId: string) {
  return useNodeMutation(nodeId, async (id, _: void) =>
    unwrap(await api.POST('/v1/admin/nodes/{node_id}/drain', { params: { path: { node_id: id } } })),
  );
}

export function useRotateToken(nodeId: string) {
  return useNodeMutation(nodeId, async (id, _: void) =>
    unwrap(await api.POST('/v1/admin/nodes/{node_id}/rotate-token', { params: { path: { node_id: id } } })),
  );
}

export function useDeleteNode(nodeId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      unwrap(await api.DELETE('/v1/admin/nodes/{node_id}', { params: { path: { node_id: nodeId } } })),
    onSuccess: () => {
      client.removeQueries({ queryKey: nodeKey(nodeId) });
      return client.invalidateQueries({ queryKey: nodesKey, exact: false });
    },
  });
}

/**
 * The node's Wings config.yml. It holds the node's token, so it is fetched on demand (a click)
 * and never cached: nothing secret stays in the query cache.
 */
export async function fetchConfiguration(nodeId: string): Promise<string> {
  return unwrap(
    await api.GET('/v1/admin/nodes/{node_id}/configuration', {
      params: { path: { node_id: nodeId } },
      parseAs: 'text',
    }),
  ) as string;
}

export async function fetchServersPage(nodeId: string, cursor: string | undefined) {
  return unwrap(
    await api.GET('/v1/admin/nodes/{node_id}/servers', {
      params: { path: { node_id: nodeId }, query: { limit: 100, ...(cursor ? { cursor } : {}) } },
    }),
  );
}

/** The node's servers with the state Wings reports now (live is null when the node does not answer). */
export function useNodeServers(nodeId: string, cursor: string | undefined) {
  return useQuery({
    queryKey: [...serversKey(nodeId), cursor ?? ''],
    queryFn: () => fetchServersPage(nodeId, cursor),
    placeholderData: keepPreviousData,
    refetchInterval: LIVE_REFRESH_MS,
  });
}

export async function fetchAllocationsPage(nodeId: string, cursor: string | undefined) {
  return unwrap(
    await api.GET('/v1/admin/nodes/{node_id}/allocations', {
      params: { path: { node_id: nodeId }, query: { limit: 100, ...(cursor ? { cursor } : {}) } },
    }),
  );
}

export function useAllocations(nodeId: string, cursor: string | undefined) {
  return useQuery({
    queryKey: [...allocationsKey(nodeId), cursor ?? ''],
    queryFn: () => fetchAllocationsPage(nodeId, cursor),
    placeholderData: keepPreviousData,
  });
}

export interface AllocationsInput {
  ip: string;
  ports: (string | number)[];
  alias: string | null;
  notes: string | null;
}

export function useAddAllocations(nodeId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: AllocationsInput) =>
      unwrap(await api.POST('/v1/admin/nodes/{node_id}/allocations', { params: { path: { node_id: nodeId } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: allocationsKey(nodeId) }),
  });
}

export function useDeleteAllocation(nodeId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (allocationId: string) =>
      unwrap(
        await api.DELETE('/v1/admin/nodes/{node_id}/allocations/{allocation_id}', {
          params: { path: { node_id: nodeId, allocation_id: allocationId } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: allocationsKey(nodeId) }),
  });
}

/** "25565, 25570-25600" → [25565, "25570-25600"]: the API checks each entry and the 1,000-port cap. */
export function parsePorts(text: string): (string | number)[] {
  return text
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** A comma-separated list field as a clean list (tags, allowed tenants). */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The one-line setup for a Linux host that already has Docker and Wings installed: writes the
 * node's config.yml (carried base64-encoded, so no quoting can break it), readable by root
 * only, then starts Wings. It contains the node's token: it is a secret like the file itself.
 */
export function setupCommand(configYml: string): string {
  const bytes = new TextEncoder().encode(configYml);
  let binary = '';
  bytes.forEach((b) => {
    binary += String.fromCharCode(b);
  });
  const encoded = btoa(binary);
  return (
    `sudo mkdir -p /etc/pterodactyl && echo '${encoded}' | base64 -d | sudo tee /etc/pterodactyl/config.yml >/dev/null` +
    ` && sudo chmod 600 /etc/pterodactyl/config.yml && sudo systemctl enable --now wings`
  );
}
