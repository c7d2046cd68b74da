/** The signed-in user's in-app notifications (the bell, the list) and notification preferences. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import type { components } from '@/api/schema';
import { meKey, useSessionState } from '@/features/auth/api/session';
import { api, unwrap } from '@/lib/api';

export type Notification = components['schemas']['NotificationOut'];
export type Preferences = components['schemas']['PreferencesOut'];
export type PreferencesIn = components['schemas']['PreferencesIn'];

export const notificationsKey = ['me', 'notifications'] as const;
export const preferencesKey = ['me', 'notification-preferences'] as const;
/** How often the bell asks for the unread count (events arrive from the queue, not from this page). */
export const BELL_POLL_MS = 30_000;

/** The unread count, from GET /v1/me (no extra read on the API), polled while signed in. */
export function useUnreadCount() {
  const state = useSessionState();
  return useQuery({
    queryKey: [...notificationsKey, 'unread-count'],
    queryFn: async () => unwrap(await api.GET('/v1/me')).unread_notifications ?? 0,
    enabled: state === 'signed-in',
    refetchInterval: BELL_POLL_MS,
    refetchOnWindowFocus: true,
  });
}

export function useNotifications(unread: boolean, cursor: string | undefined) {
  return useQuery({
    queryKey: [...notificationsKey, 'list', unread, cursor ?? ''],
    queryFn: async () =>
      unwrap(await api.GET('/v1/me/notifications', { params: { query: { unread, limit: 25, cursor } } })),
    refetchInterval: BELL_POLL_MS,
  });
}

export function useMarkRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: { ids?: string[]; all?: boolean }) =>
      unwrap(await api.POST('/v1/me/notifications/read', { body: { ids: body.ids ?? null, all: body.all ?? false } })),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: notificationsKey });
      void client.invalidateQueries({ queryKey: meKey });
    },
  });
}

export function usePreferences(enabled = true) {
  return useQuery({
    queryKey: preferencesKey,
    queryFn: async () => unwrap(await api.GET('/v1/me/notification-preferences')),
    enabled,
    staleTime: 300_000,
  });
}

/**
 * Tell the API which language the panel runs in: notification mails use it until the user
 * chooses one on the preferences page. One PATCH when it differs from what the API knows.
 */
export function useSyncPanelLanguage(language: string | undefined) {
  const state = useSessionState();
  const prefs = usePreferences(state === 'signed-in');
  const update = useUpdatePreferences();
  const known = prefs.data?.panel_language;
  const wanted = language === 'de' || language === 'en' ? language : undefined;
  useEffect(() => {
    if (!prefs.data || !wanted || known === wanted || update.isPending) return;
    update.mutate({ panel_language: wanted });
    // update is a fresh object each render; what matters is the language and what the API knows
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [prefs.data, known, wanted]);
}

export function useUpdatePreferences() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: PreferencesIn) => unwrap(await api.PATCH('/v1/me/notification-preferences', { body })),
    onSuccess: (prefs) => client.setQueryData(preferencesKey, prefs),
  });
}

/** Where a notification leads in the panel: its server, its tenant, or (platform events) the node. */
export function notificationLink(n: Notification): string | null {
  if (n.tenant_id && n.server_id && n.type !== 'server.deleted') return `/t/${n.tenant_id}/servers/${n.server_id}`;
  if (n.tenant_id) return `/t/${n.tenant_id}`;
  const node = n.payload?.node_id;
  return typeof node === 'string' ? `/admin/nodes/${node}` : null;
}
