/** The providers linked to the account for sign-in: list, link another, remove one (docs/oauth.md). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type Identity = components['schemas']['IdentityOut'];
type ProviderId = components['schemas']['LinkIdentityIn']['provider'];

export const identitiesKey = ['me', 'identities'] as const;

export function useIdentities() {
  return useQuery({
    queryKey: identitiesKey,
    queryFn: async () => unwrap(await api.GET('/v1/me/identities')).items,
  });
}

/** Start linking: the API binds the flow to this browser (cookie), then the browser goes to the provider. */
export function useLinkIdentity() {
  return useMutation({
    mutationFn: async (provider: ProviderId) =>
      unwrap(await api.POST('/v1/me/identities', { body: { provider, return_to: '/account' } })),
    onSuccess: (started) => window.location.assign(started.authorize_url),
  });
}

export function useUnlinkIdentity() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (identityId: string) =>
      unwrap(await api.DELETE('/v1/me/identities/{identity_id}', { params: { path: { identity_id: identityId } } })),
    onSettled: () => client.invalidateQueries({ queryKey: identitiesKey }),
  });
}
