/** The admin console's users (docs/operations.md "Admin console: tenants and users"). */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';
import { pageWithMatches } from '@/lib/pages';

export type AdminUser = components['schemas']['AdminUserOut'];
export type AdminUserDetail = components['schemas']['AdminUserDetail'];

export const adminUsersKey = ['admin', 'users'] as const;
export const adminUserKey = (userId: string) => ['admin', 'users', userId] as const;

/** One page of the user listing with the search (`q`); what the CSV export reads too. */
export async function fetchUsersPage(q: string, cursor: string | undefined, limit = 100) {
  return unwrap(
    await api.GET('/v1/admin/users', { params: { query: { limit, ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) } } }),
  );
}

export function useAdminUsers(q: string) {
  return useInfiniteQuery({
    queryKey: [...adminUsersKey, { q }],
    queryFn: ({ pageParam }) => pageWithMatches((cursor) => fetchUsersPage(q, cursor), pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export function useAdminUser(userId: string) {
  return useQuery({
    queryKey: adminUserKey(userId),
    queryFn: async () => unwrap(await api.GET('/v1/admin/users/{user_id}', { params: { path: { user_id: userId } } })),
  });
}

function useUserUpdate<V>(userId: string, call: (v: V) => Promise<AdminUser>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: adminUserKey(userId) });
      void client.invalidateQueries({ queryKey: adminUsersKey, exact: false });
    },
  });
}

export function useSetUserSuspended(userId: string) {
  return useUserUpdate(userId, async (suspend: boolean) =>
    unwrap(
      suspend
        ? await api.POST('/v1/admin/users/{user_id}/suspend', { params: { path: { user_id: userId } } })
        : await api.POST('/v1/admin/users/{user_id}/unsuspend', { params: { path: { user_id: userId } } }),
    ),
  );
}

export function useSetUserAdmin(userId: string) {
  return useUserUpdate(userId, async (isAdmin: boolean) =>
    unwrap(await api.PATCH('/v1/admin/users/{user_id}', { params: { path: { user_id: userId } }, body: { is_admin: isAdmin } })),
  );
}

export function useResetTwoFactor(userId: string) {
  return useUserUpdate(userId, async (body: { current_password: string; totp_code: string | null }) =>
    unwrap(await api.POST('/v1/admin/users/{user_id}/2fa/reset', { params: { path: { user_id: userId } }, body })),
  );
}
