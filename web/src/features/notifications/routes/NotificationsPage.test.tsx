import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import notifications from '@/locales/en/notifications.json';
import { setSession } from '@/lib/session';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { NotificationBell } from '../components/NotificationBell';
import { NotificationPreferencesPage } from './NotificationPreferencesPage';
import { NotificationsPage } from './NotificationsPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

function note(over: Record<string, unknown> = {}) {
  return {
    id: 'evt_1', type: 'backup.failed', severity: 'error', summary: 'A backup failed', occurred_at: '2026-12-05T09:00:00Z',
    created_at: '2026-12-05T09:00:01Z', tenant_id: 'tn_a', server_id: 'srv_1', read: false, read_at: null,
    payload: { server_name: 'Survival', backup_name: 'nightly', reason: 'disk full' }, ...over,
  };
}

beforeEach(() => {
  resetApi();
  setSession('access-token', 900);
});

describe('NotificationBell', () => {
  it('says how many are unread', async () => {
    answer('GET', '/v1/me', { body: { unread_notifications: 3 } });
    renderWithApp(<NotificationBell />);
    expect(await screen.findByRole('link', { name: 'Notifications, 3 unread' })).toHaveAttribute('href', '/notifications');
    expect(screen.getByText('3')).toBeInTheDocument();
  });
});

describe('the panel language', () => {
  it('is reported once when the API does not know it yet', async () => {
    answer('GET', '/v1/me', { body: { unread_notifications: 0 } });
    answer('GET', '/v1/me/notification-preferences', { body: { language: 'en', language_chosen: false, panel_language: null, events: [] } });
    answer('PATCH', '/v1/me/notification-preferences', { body: { language: 'en', language_chosen: false, panel_language: 'en', events: [] } });
    renderWithApp(<NotificationBell />);
    await waitFor(() => expect(calls.filter((c) => c.method === 'PATCH').map((c) => c.init.body)).toEqual([{ panel_language: 'en' }]));
  });
});

describe('NotificationsPage', () => {
  it('shows each notification in words with its link, and marks one read', async () => {
    answer('GET', '/v1/me/notifications', { body: { items: [note()], next_cursor: null } });
    answer('POST', '/v1/me/notifications/read', { body: { marked: 1, unread_notifications: 0 } });
    renderWithApp(<NotificationsPage />);
    const title = 'Backup nightly of Survival failed';
    expect(await screen.findByRole('heading', { name: new RegExp(`^${notifications.list.unread}\\s*${title}$`) })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: `Open: ${title}` })).toHaveAttribute('href', '/t/tn_a/servers/srv_1');

    await userEvent.click(screen.getByRole('button', { name: `Mark as read: ${title}` }));

    await waitFor(() => expect(calls.find((c) => c.method === 'POST')?.init.body).toEqual({ ids: ['evt_1'], all: false }));
  });

  it('counts opening a notification as reading it', async () => {
    answer('GET', '/v1/me/notifications', { body: { items: [note()], next_cursor: null } });
    answer('POST', '/v1/me/notifications/read', { body: { marked: 1, unread_notifications: 0 } });
    renderWithApp(<NotificationsPage />);

    await userEvent.click(await screen.findByRole('link', { name: 'Open: Backup nightly of Survival failed' }));

    await waitFor(() => expect(calls.find((c) => c.method === 'POST')?.init.body).toEqual({ ids: ['evt_1'], all: false }));
    expect(await screen.findByText('elsewhere')).toBeInTheDocument();
  });

  it('says so when there is nothing', async () => {
    answer('GET', '/v1/me/notifications', { body: { items: [], next_cursor: null } });
    renderWithApp(<NotificationsPage />);
    expect(await screen.findByText(notifications.list.empty)).toBeInTheDocument();
  });
});

describe('NotificationPreferencesPage', () => {
  it('sends the switched channels, and no language the user did not choose', async () => {
    answer('GET', '/v1/me/notification-preferences', {
      body: {
        language: 'en',
        events: [{ type: 'backup.failed', severity: 'error', summary: 'A backup failed', channels: { in_app: true, email: true } }],
      },
    });
    answer('PATCH', '/v1/me/notification-preferences', (init) => ({
      body: { language: 'en', events: [{ type: 'backup.failed', severity: 'error', summary: 'x', channels: (init.body as { channels: Record<string, unknown> }).channels['backup.failed'] }] },
    }));
    renderWithApp(<NotificationPreferencesPage />);
    const byMail = await screen.findByRole('checkbox', { name: 'Backup failed by email' });
    expect(byMail).toBeChecked();

    await userEvent.click(byMail);
    await userEvent.click(screen.getByRole('button', { name: notifications.preferences.save }));

    await waitFor(() =>
      expect(calls.find((c) => c.method === 'PATCH')?.init.body).toEqual({
        channels: { 'backup.failed': { in_app: true, email: false } },
      }),
    );
    expect(await screen.findByText(notifications.preferences.saved)).toBeInTheDocument();
  });
});
