/** The signed-in user's API keys: create (the key is shown once), list, revoke, rotate. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type ApiKey = components['schemas']['ApiKeyOut'];
export type ApiKeyCreate = components['schemas']['ApiKeyCreate'];

export const apiKeysKey = ['me', 'api-keys'] as const;

export function useApiKeys() {
  return useQuery({
    queryKey: apiKeysKey,
    queryFn: async () => unwrap(await api.GET('/v1/me/api-keys', { params: { query: { limit: 100 } } })),
  });
}

export function useCreateApiKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: ApiKeyCreate) => unwrap(await api.POST('/v1/me/api-keys', { body })),
    onSettled: () => client.invalidateQueries({ queryKey: apiKeysKey }),
  });
}

export function useRevokeApiKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (keyId: string) =>
      unwrap(await api.DELETE('/v1/me/api-keys/{key_id}', { params: { path: { key_id: keyId } } })),
    onSettled: () => client.invalidateQueries({ queryKey: apiKeysKey }),
  });
}

/** A new secret for a key; the old one keeps working for `graceSeconds` (0 to 24 h). */
export function useRotateApiKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ keyId, graceSeconds }: { keyId: string; graceSeconds: number }) =>
      unwrap(
        await api.POST('/v1/me/api-keys/{key_id}/rotate', {
          params: { path: { key_id: keyId } },
          body: { grace_seconds: graceSeconds },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: apiKeysKey }),
  });
}

/** Lines or commas of a textarea as a list ("" → none). */
export function splitList(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((v) => v.trim())
    .filter(Boolean);
}
