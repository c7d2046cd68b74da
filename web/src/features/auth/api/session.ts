/** The session as React sees it: whether someone is signed in, and who (GET /v1/me). */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
import { api, refreshSession, signOut, unwrap } from '@/lib/api';
import { getAccessToken, subscribe } from '@/lib/session';

export type SessionState = 'checking' | 'signed-in' | 'signed-out';

let booted: Promise<boolean> | null = null;
let bootDone = false;
const bootListeners = new Set<() => void>();

/** On first load a refresh through the HttpOnly cookie restores the session after a reload. */
export function bootSession(): Promise<boolean> {
  booted ??= refreshSession().finally(() => {
    bootDone = true;
    bootListeners.forEach((l) => l());
  });
  return booted;
}

function subscribeAll(listener: () => void) {
  const off = subscribe(listener);
  bootListeners.add(listener);
  return () => {
    off();
    bootListeners.delete(listener);
  };
}

function snapshot(): SessionState {
  if (getAccessToken()) return 'signed-in';
  return bootDone ? 'signed-out' : 'checking';
}

export function useSessionState(): SessionState {
  return useSyncExternalStore(subscribeAll, snapshot, snapshot);
}

export const meKey = ['me'] as const;

export function useMe() {
  const state = useSessionState();
  return useQuery({
    queryKey: meKey,
    queryFn: async () => unwrap(await api.GET('/v1/me')),
    enabled: state === 'signed-in',
    staleTime: 60_000,
  });
}

export function useSignOut() {
  const client = useQueryClient();
  return async () => {
    await signOut();
    client.clear();
  };
}

/**
 * A one-line reason the sign-in page shows after the app ended the session itself (a password
 * change ends every session; a deleted account has none). Kept in memory only, until the next successful sign in.
 */
export type SignInNotice = 'passwordChanged' | 'accountDeleted';
let signInNotice: SignInNotice | null = null;

export function setSignInNotice(notice: SignInNotice | null): void {
  signInNotice = notice;
}

export function getSignInNotice(): SignInNotice | null {
  return signInNotice;
}
