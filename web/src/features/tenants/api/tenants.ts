import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api';

export const tenantsKey = ['tenants'] as const;

export function useTenants() {
  return useQuery({
    queryKey: tenantsKey,
    queryFn: async () => unwrap(await api.GET('/v1/tenants', { params: { query: { limit: 100 } } })),
  });
}

export function useTenant(tenantId: string) {
  return useQuery({
    queryKey: ['tenants', tenantId],
    queryFn: async () => unwrap(await api.GET('/v1/tenants/{tenant_id}', { params: { path: { tenant_id: tenantId } } })),
  });
}

export function useCreateTenant() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (name: string) => unwrap(await api.POST('/v1/tenants', { body: { name } })),
    onSuccess: () => client.invalidateQueries({ queryKey: tenantsKey }),
  });
}
