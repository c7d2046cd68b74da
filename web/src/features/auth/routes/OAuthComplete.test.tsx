import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as apiModule from '@/lib/api';
import oauth from '@/locales/en/oauth.json';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { OAuthComplete } from './OAuthComplete';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const COMPLETE = '/v1/auth/oauth/complete';
const PROVIDERS = [
  { id: 'google', name: 'Google', kind: 'oidc' },
  { id: 'github', name: 'GitHub', kind: 'oauth2' },
];
const t = (text: string, vars: Record<string, string>) => text.replace(/{{(\w+)}}/g, (_, k: string) => vars[k] ?? '');

function open(query: string) {
  return renderWithApp(<OAuthComplete />, { path: '/oauth/complete', route: `/oauth/complete?${query}` });
}

beforeEach(() => {
  resetApi();
  answer('GET', '/v1/auth/providers', { body: { items: PROVIDERS } });
});

describe('OAuthComplete', () => {
  it('says why a refused sign-in was refused, without redeeming anything', async () => {
    open('provider=google&error=nonce_mismatch');
    expect(await screen.findByRole('heading', { name: t(oauth.complete.failedTitle, { provider: 'Google' }) })).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent(t(oauth.errors.nonce_mismatch, { provider: 'Google' }));
    expect(screen.getByRole('link', { name: oauth.complete.toSignIn })).toHaveAttribute('href', '/sign-in');
    expect(calls.some((c) => c.path === COMPLETE)).toBe(false);
  });

  it('signs in with the ticket and goes where the sign-in started', async () => {
    answer('POST', COMPLETE, { body: { status: 'signed_in', provider: 'google', return_to: '/servers', access_token: 'a1', token_type: 'Bearer', expires_in: 900, methods: [], created: true, linked: false } });
    open('provider=google');
    expect(await screen.findByText('elsewhere')).toBeInTheDocument();
    expect(vi.mocked(apiModule.adoptTokens)).toHaveBeenCalledWith({ access_token: 'a1', expires_in: 900 });
    expect(calls.filter((c) => c.path === COMPLETE)).toHaveLength(1);
  });

  it('asks for the 2FA code when the account has 2FA, and sends it', async () => {
    let first = true;
    answer('POST', COMPLETE, () => {
      if (first) {
        first = false;
        return { status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'code', details: { reason: 'totp_required' } } } };
      }
      return { body: { status: 'signed_in', provider: 'github', return_to: '/', access_token: 'a2', token_type: 'Bearer', expires_in: 900, methods: [], created: false, linked: false } };
    });
    open('provider=github');
    await userEvent.type(await screen.findByLabelText(oauth.complete.code, { exact: false }), '123456');
    await userEvent.click(screen.getByRole('button', { name: oauth.complete.submit }));
    await waitFor(() => expect(calls.filter((c) => c.path === COMPLETE)).toHaveLength(2));
    expect(calls.at(-1)?.init.body).toEqual({ totp_code: '123456' });
  });

  it('shows the link-your-account confirmation with the ways to prove the account', async () => {
    answer('POST', COMPLETE, { body: { status: 'link_required', provider: 'discord', return_to: '/servers', email: 'ada@example.com', methods: ['password', 'github', 'mail'], created: false, linked: false } });
    answer('POST', '/v1/auth/oauth/prove/mail', { status: 202, body: { status: 'accepted', message: 'sent' } });
    open('provider=discord');
    expect(await screen.findByRole('heading', { name: t(oauth.link.title, { provider: 'Discord' }) })).toBeInTheDocument();
    expect(screen.getByText(t(oauth.link.body, { provider: 'Discord', email: 'ada@example.com' }))).toBeInTheDocument();
    expect(screen.getByLabelText(oauth.link.password, { selector: 'input' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: t(oauth.continueWith, { provider: 'GitHub' }) })).toHaveAttribute(
      'href',
      '/v1/auth/oauth/github/start?return_to=%2Fservers',
    );
    await userEvent.click(screen.getByRole('button', { name: oauth.link.mail }));
    expect(await screen.findByText(t(oauth.link.mailSent, { provider: 'Discord', email: 'ada@example.com' }))).toBeInTheDocument();
  });
});
