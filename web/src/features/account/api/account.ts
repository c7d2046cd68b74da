/** The signed-in user's own account: name, email change, password change, sessions, deletion. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { meKey, setSignInNotice } from '@/features/auth/api/session';
import { COOKIE_MODE_HEADER, COOKIE_MODE_VALUE, api, signOut, unwrap } from '@/lib/api';
import { clearSession } from '@/lib/session';

type MeUpdate = components['schemas']['MeUpdate'];
type PasswordChangeIn = components['schemas']['PasswordChangeIn'];

/** A name change alone, or an email change with the current password (and the 2FA code when on). */
export function useUpdateMe() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: MeUpdate) => unwrap(await api.PATCH('/v1/me', { body })),
    onSuccess: (me) => client.setQueryData(meKey, me),
  });
}

export function useResendVerification() {
  return useMutation({ mutationFn: async () => unwrap(await api.POST('/v1/me/verify-email')) });
}

/**
 * POST /v1/me/password ends every session, access token and API key of the account, this
 * session too (services/accounts.py change_password). So on success the app drops the dead
 * session and the cached data; the caller sends the user to sign in, where the notice says why.
 */
export function useChangePassword() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: PasswordChangeIn) => unwrap(await api.POST('/v1/me/password', { body })),
    onSuccess: async () => {
      setSignInNotice('passwordChanged');
      await signOut();
      client.clear();
    },
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

type AccountDeleteIn = components['schemas']['AccountDeleteIn'];

/**
 * DELETE /v1/me deletes the account after the same proof as a password change
 * (services/account_deletion.py). The session dies with it: on success `onDeleted` runs first
 * (the page moves to sign in, where the notice says what happened), then the app forgets its
 * access token and the cached data (the API clears the refresh cookie, asked in cookie mode).
 * In that order, since forgetting the session unmounts the page that asked.
 */
export function useDeleteAccount(onDeleted: () => void) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: AccountDeleteIn) =>
      unwrap(await api.DELETE('/v1/me', { body, headers: { [COOKIE_MODE_HEADER]: COOKIE_MODE_VALUE } })),
    onSuccess: () => {
      setSignInNotice('accountDeleted');
      onDeleted();
      clearSession();
      client.clear();
    },
  });
}
