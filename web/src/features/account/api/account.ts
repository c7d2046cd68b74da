/** The signed-in user's own account: name, email change, password reset link, sessions. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { meKey } from '@/features/auth/api/session';
import { api, signOut, unwrap } from '@/lib/api';

export function useUpdateMe() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: { name?: string | null; email?: string }) => unwrap(await api.PATCH('/v1/me', { body })),
    onSuccess: (me) => client.setQueryData(meKey, me),
  });
}

export function useResendVerification() {
  return useMutation({ mutationFn: async () => unwrap(await api.POST('/v1/me/verify-email')) });
}

/** There is no "change password" route: a reset link to the account's own address is the way (docs/accounts.md). */
export function useSendPasswordLink() {
  return useMutation({
    mutationFn: async (email: string) => unwrap(await api.POST('/v1/auth/password/forgot', { body: { email } })),
  });
}

/** End every session and void every access token of the account, this one included. */
export function useSignOutEverywhere() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/auth/logout', { body: { everywhere: true } })),
    onSuccess: async () => {
      await signOut();
      client.clear();
    },
  });
}
