/**
 * Sign-in with Google, Microsoft, GitHub or Discord (docs/oauth.md): the offered providers, and
 * the calls of the completion page. The flow itself is browser navigation: the buttons go to
 * `/v1/auth/oauth/<provider>/start`, the provider comes back to the API's callback, which
 * redirects to `/oauth/complete` with the ticket in an HttpOnly cookie.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { adoptTokens, api, unwrap } from '@/lib/api';

export type Provider = components['schemas']['ProviderOut'];
export type OAuthResult = components['schemas']['OAuthCompleteOut'];

export function useProviders() {
  return useQuery({
    queryKey: ['auth', 'providers'],
    queryFn: async () => unwrap(await api.GET('/v1/auth/providers')).items,
    staleTime: 5 * 60_000,
  });
}

/** Where a provider button leads: the API's start, which redirects to the provider. */
export function startUrl(provider: string, returnTo: string): string {
  return `/v1/auth/oauth/${encodeURIComponent(provider)}/start?${new URLSearchParams({ return_to: returnTo })}`;
}

function useSignedIn() {
  const client = useQueryClient();
  return (result: OAuthResult) => {
    if (result.status === 'signed_in' && result.access_token && result.expires_in) {
      client.clear();
      adoptTokens({ access_token: result.access_token, expires_in: result.expires_in });
    }
  };
}

type CompleteIn = components['schemas']['OAuthCompleteIn'];

/** Redeem the ticket; with the second factor (a code, or a passkey's answer) when the account has one. */
export function useCompleteOAuth() {
  const signedIn = useSignedIn();
  return useMutation({
    mutationFn: async (body: CompleteIn) => unwrap(await api.POST('/v1/auth/oauth/complete', { body })),
    onSuccess: signedIn,
  });
}

export function useProveWithPassword() {
  const signedIn = useSignedIn();
  return useMutation({
    mutationFn: async (body: { password: string; totp_code: string | null }) =>
      unwrap(await api.POST('/v1/auth/oauth/prove/password', { body })),
    onSuccess: signedIn,
  });
}

export function useProveByMail() {
  return useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/auth/oauth/prove/mail')),
  });
}

export function useConfirmLink() {
  return useMutation({
    mutationFn: async (token: string) => unwrap(await api.POST('/v1/auth/oauth/link/confirm', { body: { token } })),
  });
}
