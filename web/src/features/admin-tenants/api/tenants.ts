/** The admin console's tenants (docs/operations.md "Admin console: tenants and users"). */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';
import { pageWithMatches } from '@/lib/pages';

export type AdminTenant = components['schemas']['AdminTenantOut'];
export type AdminMember = components['schemas']['MemberOut'];
export type AdminServer = components['schemas']['AdminServerOut'];
export type TenantExport = components['schemas']['TenantExportOut'];
export type Billing = components['schemas']['BillingOut'];
export type CreditList = components['schemas']['CreditList'];
export type Invoice = components['schemas']['InvoiceOut'];

export const adminTenantsKey = ['admin', 'tenants'] as const;
export const adminTenantKey = (tenantId: string) => ['admin', 'tenants', tenantId] as const;

/** One page of the tenant listing with the search (`q`); what the CSV export reads too. */
export async function fetchTenantsPage(q: string, cursor: string | undefined, limit = 100) {
  return unwrap(
    await api.GET('/v1/admin/tenants', { params: { query: { limit, ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) } } }),
  );
}

export function useAdminTenants(q: string) {
  return useInfiniteQuery({
    queryKey: [...adminTenantsKey, { q }],
    queryFn: ({ pageParam }) => pageWithMatches((cursor) => fetchTenantsPage(q, cursor), pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export function useAdminTenant(tenantId: string) {
  return useQuery({
    queryKey: adminTenantKey(tenantId),
    queryFn: async () => unwrap(await api.GET('/v1/admin/tenants/{tenant_id}', { params: { path: { tenant_id: tenantId } } })),
  });
}

export function useTenantMembers(tenantId: string) {
  return useQuery({
    queryKey: [...adminTenantKey(tenantId), 'members'],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/admin/tenants/{tenant_id}/members', {
          params: { path: { tenant_id: tenantId }, query: { limit: 100 } },
        }),
      ),
  });
}

export function useTenantServers(tenantId: string) {
  return useQuery({
    queryKey: [...adminTenantKey(tenantId), 'servers'],
    queryFn: async () =>
      unwrap(await api.GET('/v1/admin/servers', { params: { query: { tenant_id: tenantId, limit: 100 } } })),
    // A suspension stops the servers in a workflow: follow it while the page is open.
    refetchInterval: 5_000,
  });
}

export function useTenantBilling(tenantId: string) {
  return useQuery({
    queryKey: [...adminTenantKey(tenantId), 'billing'],
    queryFn: async () =>
      unwrap(await api.GET('/v1/admin/tenants/{tenant_id}/billing', { params: { path: { tenant_id: tenantId } } })),
    retry: false,
  });
}

export function useTenantCredits(tenantId: string) {
  return useQuery({
    queryKey: [...adminTenantKey(tenantId), 'credits'],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/admin/tenants/{tenant_id}/credits', {
          params: { path: { tenant_id: tenantId }, query: { limit: 20 } },
        }),
      ),
    retry: false,
  });
}

export function useTenantInvoices(tenantId: string) {
  return useQuery({
    queryKey: [...adminTenantKey(tenantId), 'invoices'],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/admin/tenants/{tenant_id}/invoices', {
          params: { path: { tenant_id: tenantId }, query: { limit: 12 } },
        }),
      ),
    retry: false,
  });
}

export function useSetTenantSuspended(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (suspend: boolean) =>
      unwrap(
        suspend
          ? await api.POST('/v1/admin/tenants/{tenant_id}/suspend', { params: { path: { tenant_id: tenantId } } })
          : await api.POST('/v1/admin/tenants/{tenant_id}/unsuspend', { params: { path: { tenant_id: tenantId } } }),
      ),
    onSuccess: (tenant) => {
      client.setQueryData(adminTenantKey(tenantId), tenant);
      void client.invalidateQueries({ queryKey: adminTenantsKey });
    },
  });
}

export function useGrantCredit(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: { amount_cents: number; currency: string; reason: string }) =>
      unwrap(
        await api.POST('/v1/admin/tenants/{tenant_id}/credits', { params: { path: { tenant_id: tenantId } }, body }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: [...adminTenantKey(tenantId), 'credits'] });
      void client.invalidateQueries({ queryKey: [...adminTenantKey(tenantId), 'billing'] });
    },
  });
}

export function useExportTenant(tenantId: string) {
  return useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/v1/admin/tenants/{tenant_id}/export', { params: { path: { tenant_id: tenantId } } })),
  });
}

/** Pages of a tenant's sub-lists, for their CSV exports (the same routes the sections read). */
export async function fetchMembersPage(tenantId: string, cursor: string | undefined) {
  return unwrap(
    await api.GET('/v1/admin/tenants/{tenant_id}/members', {
      params: { path: { tenant_id: tenantId }, query: { limit: 100, ...(cursor ? { cursor } : {}) } },
    }),
  );
}

export async function fetchServersPage(tenantId: string, cursor: string | undefined) {
  return unwrap(
    await api.GET('/v1/admin/servers', { params: { query: { tenant_id: tenantId, limit: 100, ...(cursor ? { cursor } : {}) } } }),
  );
}

export async function fetchCreditsPage(tenantId: string, cursor: string | undefined) {
  return unwrap(
    await api.GET('/v1/admin/tenants/{tenant_id}/credits', {
      params: { path: { tenant_id: tenantId }, query: { limit: 100, ...(cursor ? { cursor } : {}) } },
    }),
  );
}

export async function fetchInvoicesPage(tenantId: string, cursor: string | undefined) {
  return unwrap(
    await api.GET('/v1/admin/tenants/{tenant_id}/invoices', {
      params: { path: { tenant_id: tenantId }, query: { limit: 100, ...(cursor ? { cursor } : {}) } },
    }),
  );
}
