/** A tenant's service accounts and their keys (docs/service-accounts.md). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type ServiceAccount = components['schemas']['ServiceAccountOut'];
export type ServiceAccountCreate = components['schemas']['ServiceAccountCreate'];
export type ServiceKey = components['schemas']['ApiKeyOut'];
export type ServiceKeyCreate = components['schemas']['ServiceKeyCreate'];

/** How many keys a service account may hold active at once (mamba/domain/service_accounts.py). */
export const MAX_ACTIVE_KEYS = 2;

export const serviceAccountsKey = (tenantId: string) => ['tenants', tenantId, 'service-accounts'] as const;
export const serviceKeysKey = (tenantId: string, accountId: string) =>
  ['tenants', tenantId, 'service-accounts', accountId, 'keys'] as const;

export function useServiceAccounts(tenantId: string) {
  return useQuery({
    queryKey: serviceAccountsKey(tenantId),
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/service-accounts', {
          params: { path: { tenant_id: tenantId }, query: { limit: 100 } },
        }),
      ),
  });
}

export function useCreateServiceAccount(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: ServiceAccountCreate) =>
      unwrap(await api.POST('/v1/tenants/{tenant_id}/service-accounts', { params: { path: { tenant_id: tenantId } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: serviceAccountsKey(tenantId) }),
  });
}

export function useUpdateServiceAccount(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ accountId, body }: { accountId: string; body: components['schemas']['ServiceAccountUpdate'] }) =>
      unwrap(
        await api.PATCH('/v1/tenants/{tenant_id}/service-accounts/{service_account_id}', {
          params: { path: { tenant_id: tenantId, service_account_id: accountId } },
          body,
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: serviceAccountsKey(tenantId) }),
  });
}

export function useDeleteServiceAccount(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (accountId: string) =>
      unwrap(
        await api.DELETE('/v1/tenants/{tenant_id}/service-accounts/{service_account_id}', {
          params: { path: { tenant_id: tenantId, service_account_id: accountId } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: serviceAccountsKey(tenantId) }),
  });
}

export function useServiceKeys(tenantId: string, accountId: string) {
  return useQuery({
    queryKey: serviceKeysKey(tenantId, accountId),
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/service-accounts/{service_account_id}/keys', {
          params: { path: { tenant_id: tenantId, service_account_id: accountId }, query: { limit: 100 } },
        }),
      ),
  });
}

export function useCreateServiceKey(tenantId: string, accountId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: ServiceKeyCreate) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/service-accounts/{service_account_id}/keys', {
          params: { path: { tenant_id: tenantId, service_account_id: accountId } },
          body,
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: serviceKeysKey(tenantId, accountId) }),
  });
}

export function useRevokeServiceKey(tenantId: string, accountId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (keyId: string) =>
      unwrap(
        await api.DELETE('/v1/tenants/{tenant_id}/service-accounts/{service_account_id}/keys/{key_id}', {
          params: { path: { tenant_id: tenantId, service_account_id: accountId, key_id: keyId } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: serviceKeysKey(tenantId, accountId) }),
  });
}

/** Neither revoked nor past its expiry: it counts towards MAX_ACTIVE_KEYS. */
export function isActive(key: ServiceKey, now: Date = new Date()): boolean {
  return !key.revoked_at && !(key.expires_at && new Date(key.expires_at) <= now);
}
