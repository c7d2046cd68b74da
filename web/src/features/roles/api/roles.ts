/** Roles of a tenant: the built-in ones and custom roles over the tenant permissions. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type Role = components['schemas']['RoleOut'];

export const rolesKey = (tenantId: string) => ['tenants', tenantId, 'roles'] as const;

export function useRoles(tenantId: string) {
  return useQuery({
    queryKey: rolesKey(tenantId),
    queryFn: async () =>
      unwrap(await api.GET('/v1/tenants/{tenant_id}/roles', { params: { path: { tenant_id: tenantId }, query: { limit: 100 } } })),
  });
}

/**
 * The permission catalogue a custom role chooses from. The built-in owner role holds every
 * tenant permission (mamba/auth/permissions.py), so its list is the catalogue as the API has
 * it today; nothing is copied into the app to drift.
 */
export function catalogueOf(roles: Role[]): string[] {
  return [...(roles.find((r) => r.builtin && r.id === 'owner')?.permissions ?? [])].sort();
}

export interface RoleInput {
  name: string;
  description: string;
  permissions: string[];
}

export function useSaveRole(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ roleId, ...body }: RoleInput & { roleId?: string }) => {
      const payload = { name: body.name, description: body.description || null, permissions: body.permissions };
      return roleId
        ? unwrap(
            await api.PATCH('/v1/tenants/{tenant_id}/roles/{role_id}', {
              params: { path: { tenant_id: tenantId, role_id: roleId } },
              body: payload,
            }),
          )
        : unwrap(await api.POST('/v1/tenants/{tenant_id}/roles', { params: { path: { tenant_id: tenantId } }, body: payload }));
    },
    onSettled: () => client.invalidateQueries({ queryKey: rolesKey(tenantId) }),
  });
}

export function useDeleteRole(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (roleId: string) =>
      unwrap(
        await api.DELETE('/v1/tenants/{tenant_id}/roles/{role_id}', {
          params: { path: { tenant_id: tenantId, role_id: roleId } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: rolesKey(tenantId) }),
  });
}
