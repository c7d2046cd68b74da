/** Members, invitations and the servers a grant can be scoped to (docs/tenancy.md). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type Member = components['schemas']['MemberOut'];
export type Invitation = components['schemas']['InvitationOut'];

export const membersKey = (tenantId: string) => ['tenants', tenantId, 'members'] as const;
export const invitationsKey = (tenantId: string) => ['tenants', tenantId, 'invitations'] as const;

export function useMembers(tenantId: string) {
  return useQuery({
    queryKey: membersKey(tenantId),
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/members', {
          params: { path: { tenant_id: tenantId }, query: { limit: 100 } },
        }),
      ),
  });
}

export function useInvitations(tenantId: string) {
  return useQuery({
    queryKey: invitationsKey(tenantId),
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/members/invitations', {
          params: { path: { tenant_id: tenantId }, query: { limit: 100 } },
        }),
      ),
  });
}

/** The tenant's servers by name, for the "only this server" choice. */
export function useServerChoices(tenantId: string) {
  return useQuery({
    queryKey: ['tenants', tenantId, 'servers', 'choices'],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/servers', {
          params: { path: { tenant_id: tenantId }, query: { limit: 100 } },
        }),
      ).items.map((s) => ({ id: s.id, name: s.name })),
  });
}

/** An `<input type="datetime-local">` value (local time) as an ISO instant, or null when empty. */
export function localToIso(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** An ISO instant as an `<input type="datetime-local">` value in local time. */
export function isoToLocal(value: string | null | undefined): string {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export interface GrantInput {
  role: string;
  server_id: string | null;
  expires_at: string | null;
}

export function useInvite(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: GrantInput & { email: string }) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/members/invitations', {
          params: { path: { tenant_id: tenantId } },
          body: {
            email: body.email,
            role: body.role,
            server_id: body.server_id,
            expires_at: body.expires_at,
          },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: invitationsKey(tenantId) }),
  });
}

export function useRevokeInvitation(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (invitationId: string) =>
      unwrap(
        await api.DELETE('/v1/tenants/{tenant_id}/members/invitations/{invitation_id}', {
          params: { path: { tenant_id: tenantId, invitation_id: invitationId } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: invitationsKey(tenantId) }),
  });
}

export function useChangeMember(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ userId, ...grant }: GrantInput & { userId: string }) =>
      unwrap(
        await api.PATCH('/v1/tenants/{tenant_id}/members/{user_id}', {
          params: { path: { tenant_id: tenantId, user_id: userId } },
          // The owner role is tenant-wide and permanent: scope and expiry are cleared with it.
          body:
            grant.role === 'owner'
              ? { role: grant.role, server_id: null, expires_at: null }
              : { role: grant.role, server_id: grant.server_id, expires_at: grant.expires_at },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: membersKey(tenantId) }),
  });
}

export function useRemoveMember(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (userId: string) =>
      unwrap(
        await api.DELETE('/v1/tenants/{tenant_id}/members/{user_id}', {
          params: { path: { tenant_id: tenantId, user_id: userId } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: membersKey(tenantId) }),
  });
}
