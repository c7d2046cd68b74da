import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as apiModule from '@/lib/api';
import { getSignInNotice, setSignInNotice } from '@/features/auth/api/session';
import account from '@/locales/en/account.json';
import errors from '@/locales/en/errors.json';
import { setSession } from '@/lib/session';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { AccountPage } from './AccountPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const PASSWORD = 'the current long password';
const NEW = 'a brand new long password';

function me(over: Record<string, unknown> = {}) {
  return {
    id: 'usr_ada', email: 'ada@example.com', name: null, email_verified: true, pending_email: null, is_admin: false,
    totp_enabled: false, status: 'active', created_at: '2026-01-01T00:00:00Z', ...over,
  };
}

function show(over: Record<string, unknown> = {}) {
  answer('GET', '/v1/me', { body: me(over) });
  return renderWithApp(<AccountPage />, { path: '/account', route: '/account' });
}

const form = async (heading: string) => (await screen.findByRole('heading', { name: heading })).closest('form') as HTMLFormElement;
const bodyOf = (method: string, path: string) => calls.find((c) => c.method === method && c.path === path)?.init.body;

beforeEach(() => {
  resetApi();
  setSession('access-token', 900);
  setSignInNotice(null);
  vi.mocked(apiModule.signOut).mockClear();
});

describe('AccountPage: email change', () => {
  it('asks for the current password and sends it with the new address', async () => {
    answer('PATCH', '/v1/me', { body: me({ pending_email: 'new@example.com' }) });
    show();
    const email = within(await form(account.email.title));
    expect(email.queryByLabelText(account.email.code)).toBeNull();
    await userEvent.type(email.getByLabelText(account.email.new), 'new@example.com');
    expect(email.getByRole('button', { name: account.email.save })).toBeDisabled();
    await userEvent.type(email.getByLabelText(account.email.password), PASSWORD);
    await userEvent.click(email.getByRole('button', { name: account.email.save }));
    await waitFor(() => expect(bodyOf('PATCH', '/v1/me')).toEqual({ email: 'new@example.com', current_password: PASSWORD, totp_code: null }));
    expect(await screen.findByText(/A change to new@example.com waits/)).toBeInTheDocument();
  });

  it('asks for the 2FA code too when 2FA is on, and shows a wrong password next to its input', async () => {
    answer('PATCH', '/v1/me', {
      status: 400,
      body: {
        error: {
          code: 'VALIDATION_ERROR', message: 'The current password is wrong.',
          details: { fields: [{ field: 'current_password', message: 'The current password is wrong.' }], field: 'current_password', reason: 'invalid_credentials' },
        },
        request_id: 'r',
      },
    });
    show({ totp_enabled: true });
    const email = within(await form(account.email.title));
    await userEvent.type(email.getByLabelText(account.email.new), 'new@example.com');
    await userEvent.type(email.getByLabelText(account.email.password), 'wrong password');
    expect(email.getByRole('button', { name: account.email.save })).toBeDisabled();
    await userEvent.type(email.getByLabelText(account.email.code), '123456');
    await userEvent.click(email.getByRole('button', { name: account.email.save }));
    await waitFor(() => expect(bodyOf('PATCH', '/v1/me')).toEqual({ email: 'new@example.com', current_password: 'wrong password', totp_code: '123456' }));
    const input = email.getByLabelText(account.email.password);
    await waitFor(() => expect(input).toHaveAccessibleDescription(expect.stringContaining(errors.fieldReasons.current_password.invalid_credentials)));
    expect(email.queryByRole('alert')).toBeNull();
  });

  it('shows a wrong 2FA code next to the code input', async () => {
    answer('PATCH', '/v1/me', {
      status: 400,
      body: { error: { code: 'VALIDATION_ERROR', message: 'x', details: { fields: [{ field: 'totp_code', message: 'x' }], field: 'totp_code', reason: 'totp_invalid' } }, request_id: 'r' },
    });
    show({ totp_enabled: true });
    const email = within(await form(account.email.title));
    await userEvent.type(email.getByLabelText(account.email.new), 'new@example.com');
    await userEvent.type(email.getByLabelText(account.email.password), PASSWORD);
    await userEvent.type(email.getByLabelText(account.email.code), '000000');
    await userEvent.click(email.getByRole('button', { name: account.email.save }));
    await waitFor(() => expect(email.getByLabelText(account.email.code)).toHaveAccessibleDescription(expect.stringContaining(errors.reasons.totp_invalid)));
  });
});

describe('AccountPage: password change', () => {
  it('changes the password with the current one, then ends the session and sends to sign in with the reason', async () => {
    answer('POST', '/v1/me/password', { body: { status: 'password_changed', message: 'Log in with the new password.' } });
    show();
    const password = within(await form(account.password.title));
    await userEvent.type(password.getByLabelText(account.password.current), PASSWORD);
    await userEvent.type(password.getByLabelText(account.password.new), NEW);
    await userEvent.type(password.getByLabelText(account.password.repeat), `${NEW}x`);
    expect(password.getByText(account.password.mismatch)).toBeInTheDocument();
    expect(password.getByRole('button', { name: account.password.save })).toBeDisabled();
    await userEvent.type(password.getByLabelText(account.password.repeat), '{Backspace}');
    await userEvent.click(password.getByRole('button', { name: account.password.save }));

    await waitFor(() => expect(bodyOf('POST', '/v1/me/password')).toEqual({ current_password: PASSWORD, new_password: NEW, totp_code: null }));
    expect(await screen.findByText('elsewhere')).toBeInTheDocument();
    expect(apiModule.signOut).toHaveBeenCalledTimes(1);
    expect(getSignInNotice()).toBe('passwordChanged');
    // The reset-link detour is gone.
    expect(calls.some((c) => c.path === '/v1/auth/password/forgot')).toBe(false);
  });

  it('sends the 2FA code when 2FA is on, and keeps the session when the API refuses', async () => {
    answer('POST', '/v1/me/password', {
      status: 400,
      body: { error: { code: 'VALIDATION_ERROR', message: 'x', details: { fields: [{ field: 'new_password', message: 'too common', type: 'value_error' }] } }, request_id: 'r' },
    });
    show({ totp_enabled: true });
    const password = within(await form(account.password.title));
    await userEvent.type(password.getByLabelText(account.password.current), PASSWORD);
    await userEvent.type(password.getByLabelText(account.password.new), 'password1234');
    await userEvent.type(password.getByLabelText(account.password.repeat), 'password1234');
    await userEvent.type(password.getByLabelText(account.password.code), '654321');
    await userEvent.click(password.getByRole('button', { name: account.password.save }));
    await waitFor(() => expect(bodyOf('POST', '/v1/me/password')).toEqual({ current_password: PASSWORD, new_password: 'password1234', totp_code: '654321' }));
    await waitFor(() => expect(password.getByLabelText(account.password.new)).toHaveAttribute('aria-invalid', 'true'));
    expect(apiModule.signOut).not.toHaveBeenCalled();
    expect(getSignInNotice()).toBeNull();
  });

  it('explains an API key session cannot change the password (SESSION_REQUIRED) in a sentence', async () => {
    answer('POST', '/v1/me/password', { status: 403, body: { error: { code: 'SESSION_REQUIRED', message: 'x', details: { via: 'api_key' } }, request_id: 'r' } });
    show();
    const password = within(await form(account.password.title));
    await userEvent.type(password.getByLabelText(account.password.current), PASSWORD);
    await userEvent.type(password.getByLabelText(account.password.new), NEW);
    await userEvent.type(password.getByLabelText(account.password.repeat), NEW);
    await userEvent.click(password.getByRole('button', { name: account.password.save }));
    expect(await password.findByRole('alert')).toHaveTextContent(errors.codes.SESSION_REQUIRED);
  });
});
