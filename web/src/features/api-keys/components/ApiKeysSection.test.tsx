import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { setSession } from '@/lib/session';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { ApiKeysSection } from './ApiKeysSection';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const key = (over: Record<string, unknown>) => ({
  id: 'key_old', name: 'deploy', prefix: 'mhp_usr_a.key_old', hint: 'x9Qa', scopes: ['servers.read'], server_ids: [], allowed_ips: [],
  expires_at: null, created_at: '2026-12-01T10:00:00Z', revoked_at: null, last_used_at: null, last_used_ip: null, replaced_by: null, ...over,
});

beforeEach(() => {
  resetApi();
  setSession('access-token', 900);
});

describe('ApiKeysSection rotation', () => {
  it('rotates a key with the chosen grace and shows the new key once', async () => {
    answer('GET', '/v1/me/api-keys', { body: { items: [key({})], next_cursor: null } });
    answer('POST', '/v1/me/api-keys/{key_id}/rotate', {
      status: 201,
      body: { ...key({ id: 'key_new', prefix: 'mhp_usr_a.key_new' }), key: 'mhp_usr_a.key_new.secret', replaces: 'key_old', previous_expires_at: '2026-12-01T11:00:00Z' },
    });
    renderWithApp(<ApiKeysSection />, { path: '/account/api-keys', route: '/account/api-keys' });

    await userEvent.click(await screen.findByRole('button', { name: 'Rotate deploy' }));
    const dialog = await screen.findByRole('alertdialog');
    await userEvent.selectOptions(within(dialog).getByLabelText(/keeps working for/), '21600');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Rotate' }));

    expect(await screen.findByTestId('rotated-api-key')).toHaveTextContent('mhp_usr_a.key_new.secret');
    const sent = calls.find((c) => c.method === 'POST')!;
    expect(sent.init.body).toEqual({ grace_seconds: 21600 });
  });

  it('offers no rotation for a key already rotated out or revoked', async () => {
    answer('GET', '/v1/me/api-keys', {
      body: { items: [key({ id: 'k1', name: 'old', replaced_by: 'k2' }), key({ id: 'k3', name: 'gone', revoked_at: '2026-12-01T10:00:00Z' })], next_cursor: null },
    });
    renderWithApp(<ApiKeysSection />, { path: '/account/api-keys', route: '/account/api-keys' });

    expect(await screen.findByText('Rotated out')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Rotate old' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Rotate gone' })).toBeNull();
  });
});
