/** The signed-in user's sessions (browsers and apps signed in): list them, sign one out (docs/accounts.md). */
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type AccountSession = components['schemas']['SessionOut'];

export const sessionsKey = ['me', 'sessions'] as const;

/** Newest first; a page can hold fewer than asked for (expired ones are left out), "Load more" follows next_cursor. */
export function useSessions() {
  return useInfiniteQuery({
    queryKey: sessionsKey,
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) =>
      unwrap(await api.GET('/v1/me/sessions', { params: { query: { limit: 50, cursor: pageParam ?? undefined } } })),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

/** Sign out one session: its refresh stops at once, its access token (at most 15 minutes) runs out. */
export function useRevokeSession() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (sessionId: string) =>
      unwrap(await api.DELETE('/v1/me/sessions/{session_id}', { params: { path: { session_id: sessionId } } })),
    onSettled: () => client.invalidateQueries({ queryKey: sessionsKey }),
  });
}
