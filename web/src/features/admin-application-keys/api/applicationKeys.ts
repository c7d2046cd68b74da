/** The platform admin's Pterodactyl application keys (ptla_): list, create (shown once), revoke. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type ApplicationKey = components['schemas']['ApplicationKeyOut'];
export type ApplicationKeyCreate = components['schemas']['ApplicationKeyCreate'];
export type Right = 'none' | 'read' | 'read-write';

/** Pterodactyl's seven application resources, in the order its own key form lists them. */
export const RESOURCES = ['users', 'nodes', 'allocations', 'locations', 'servers', 'nests', 'eggs'] as const;
export type Resource = (typeof RESOURCES)[number];
export const RIGHTS: readonly Right[] = ['none', 'read', 'read-write'];

export const applicationKeysKey = ['admin', 'application-keys'] as const;

export function useApplicationKeys() {
  return useQuery({
    queryKey: applicationKeysKey,
    queryFn: async () => unwrap(await api.GET('/v1/admin/application-keys')),
  });
}

export function useCreateApplicationKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: ApplicationKeyCreate) => unwrap(await api.POST('/v1/admin/application-keys', { body })),
    onSettled: () => client.invalidateQueries({ queryKey: applicationKeysKey }),
  });
}

export function useRevokeApplicationKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (keyId: string) =>
      unwrap(await api.DELETE('/v1/admin/application-keys/{key_id}', { params: { path: { key_id: keyId } } })),
    onSettled: () => client.invalidateQueries({ queryKey: applicationKeysKey }),
  });
}
