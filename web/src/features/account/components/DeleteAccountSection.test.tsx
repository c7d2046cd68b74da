import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { getSignInNotice, setSignInNotice } from '@/features/auth/api/session';
import account from '@/locales/en/account.json';
import errors from '@/locales/en/errors.json';
import { getAccessToken, setSession } from '@/lib/session';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { AccountPage } from '../routes/AccountPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const PASSWORD = 'the current long password';
const copy = account.deleteAccount;

function show(over: Record<string, unknown> = {}) {
  answer('GET', '/v1/me', {
    body: {
      id: 'usr_ada', email: 'ada@example.com', name: null, email_verified: true, pending_email: null, is_admin: false,
      totp_enabled: false, status: 'active', created_at: '2026-01-01T00:00:00Z', ...over,
    },
  });
  return renderWithApp(<AccountPage />, { path: '/account', route: '/account' });
}

const section = async () =>
  within((await screen.findByRole('heading', { name: copy.title })).closest('form') as HTMLFormElement);
const sent = () => calls.find((c) => c.method === 'DELETE' && c.path === '/v1/me')?.init;

beforeEach(() => {
  resetApi();
  setSession('access-token', 900);
  setSignInNotice(null);
});

describe('AccountPage: delete account', () => {
  it('needs the password and the email typed out, then deletes, forgets the session and sends to sign in', async () => {
    answer('DELETE', '/v1/me', { body: { status: 'account_deleted', left: ['tn_a'], deleted: [] } });
    show();
    const form = await section();
    const button = form.getByRole('button', { name: copy.submit });
    await userEvent.type(form.getByLabelText(copy.password), PASSWORD);
    expect(button).toBeDisabled();
    await userEvent.type(form.getByLabelText(copy.confirm), 'ada@example.org');
    expect(form.getByText(copy.confirmMismatch)).toBeInTheDocument();
    expect(button).toBeDisabled();
    await userEvent.clear(form.getByLabelText(copy.confirm));
    await userEvent.type(form.getByLabelText(copy.confirm), 'Ada@Example.com');
    await userEvent.click(button);

    await waitFor(() => expect(sent()?.body).toEqual({ current_password: PASSWORD, totp_code: null }));
    expect((sent()?.headers as Record<string, string>)['X-Mamba-Client']).toBe('web');
    expect(await screen.findByText('elsewhere')).toBeInTheDocument();
    expect(getSignInNotice()).toBe('accountDeleted');
    expect(getAccessToken()).toBeNull();
  });

  it('asks for the 2FA code when 2FA is on', async () => {
    answer('DELETE', '/v1/me', { body: { status: 'account_deleted', left: [], deleted: [] } });
    show({ totp_enabled: true });
    const form = await section();
    await userEvent.type(form.getByLabelText(copy.password), PASSWORD);
    await userEvent.type(form.getByLabelText(copy.confirm), 'ada@example.com');
    expect(form.getByRole('button', { name: copy.submit })).toBeDisabled();
    await userEvent.type(form.getByLabelText(copy.code), '123456');
    await userEvent.click(form.getByRole('button', { name: copy.submit }));
    await waitFor(() => expect(sent()?.body).toEqual({ current_password: PASSWORD, totp_code: '123456' }));
  });

  it('says why it is refused and names the tenants that hold the account; the session stays', async () => {
    answer('DELETE', '/v1/me', {
      status: 409,
      body: {
        error: { code: 'CONFLICT', message: 'x', details: { reason: 'last_owner_with_servers', tenants: [{ id: 'tn_a', name: 'Acme Gaming' }] } },
        request_id: 'r',
      },
    });
    show();
    const form = await section();
    await userEvent.type(form.getByLabelText(copy.password), PASSWORD);
    await userEvent.type(form.getByLabelText(copy.confirm), 'ada@example.com');
    await userEvent.click(form.getByRole('button', { name: copy.submit }));

    expect(await form.findByRole('alert')).toHaveTextContent(errors.reasons.last_owner_with_servers);
    expect(form.getByText('Acme Gaming')).toBeInTheDocument();
    expect(getAccessToken()).toBe('access-token');
    expect(getSignInNotice()).toBeNull();
  });
});
