import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { setSession } from '@/lib/session';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { UserPage } from './UserPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const me = (over: Record<string, unknown> = {}) => ({
  id: 'usr_root', email: 'root@example.com', name: null, email_verified: true, pending_email: null, is_admin: true,
  totp_enabled: true, status: 'active', created_at: '2026-01-01T00:00:00Z', ...over,
});
const carol = (over: Record<string, unknown> = {}) => ({
  id: 'usr_carol', email: 'carol@example.org', name: 'Carol', is_admin: false, email_verified: true, status: 'active',
  totp_enabled: true, created_at: '2026-02-01T00:00:00Z', memberships: [{ tenant_id: 'tn_a', role: 'operator', server_id: null, expires_at: null }], ...over,
});

beforeEach(() => {
  resetApi();
  setSession('access-token', 900);
  answer('GET', '/v1/me', { body: me() });
});

describe('UserPage', () => {
  it('resets 2FA only after the admin gave their own password and code, and shows a wrong password next to its field', async () => {
    answer('GET', '/v1/admin/users/{user_id}', { body: carol() });
    let attempt = 0;
    answer('POST', '/v1/admin/users/{user_id}/2fa/reset', () => {
      attempt += 1;
      return attempt === 1
        ? { status: 400, body: { error: { code: 'VALIDATION_ERROR', message: 'wrong', details: { fields: [{ field: 'current_password', message: 'The current password is wrong.' }], field: 'current_password', reason: 'invalid_credentials' } } } }
        : { body: { ...carol({ totp_enabled: false }) } };
    });
    renderWithApp(<UserPage />, { path: '/admin/users/:userId', route: '/admin/users/usr_carol' });

    const open = await screen.findByRole('button', { name: 'Reset 2FA' });
    await waitFor(() => expect(open).toBeEnabled()); // once the caller is known
    fireEvent.click(open);
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('Your password'), { target: { value: 'not it' } });
    fireEvent.change(within(dialog).getByLabelText('Your 2FA code'), { target: { value: '123456' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Reset 2FA' }));

    expect(await within(dialog).findByText('The current password is wrong.')).toBeInTheDocument();
    const sent = calls.filter((c) => c.method === 'POST');
    expect(sent[0]!.init.body).toEqual({ current_password: 'not it', totp_code: '123456' });
    expect(sent[0]!.init.params).toEqual({ path: { user_id: 'usr_carol' } });

    fireEvent.change(within(dialog).getByLabelText('Your password'), { target: { value: 'the right one' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Reset 2FA' }));
    expect(await screen.findByText(/Two-factor authentication is off for this account/)).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('offers the 2FA reset for an account whose only second factor is a passkey', async () => {
    answer('GET', '/v1/admin/users/{user_id}', { body: carol({ totp_enabled: false, passkeys: 2 }) });
    renderWithApp(<UserPage />, { path: '/admin/users/:userId', route: '/admin/users/usr_carol' });

    const open = await screen.findByRole('button', { name: 'Reset 2FA' });
    await waitFor(() => expect(open).toBeEnabled());
    expect(screen.queryByText(/nothing to reset/)).toBeNull();
  });

  it('keeps the admin from revoking or suspending themselves, with the reason shown', async () => {
    answer('GET', '/v1/admin/users/{user_id}', { body: carol({ id: 'usr_root', email: 'root@example.com', is_admin: true }) });
    renderWithApp(<UserPage />, { path: '/admin/users/:userId', route: '/admin/users/usr_root' });

    expect(await screen.findByText(/You cannot suspend yourself/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Revoke platform admin' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Suspend account' })).toBeDisabled();
    expect(screen.getByRole('link', { name: 'tn_a' })).toHaveAttribute('href', '/admin/tenants/tn_a');
  });
});
