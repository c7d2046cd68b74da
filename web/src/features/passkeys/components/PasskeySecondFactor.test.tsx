import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignIn } from '@/features/auth/routes/SignIn';
import auth from '@/locales/en/auth.json';
import t from '@/locales/en/passkeys.json';
import { clearSession, getAccessToken } from '@/lib/session';

function reply(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const sent: { url: string; body: Record<string, unknown> }[] = [];
function stubFetch(...replies: Response[]) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      // The sign-in page also lists the providers for its buttons: none here.
      if (new URL(request.url).pathname === '/v1/auth/providers') return reply(200, { items: [] });
      sent.push({ url: request.url, body: (await request.clone().json().catch(() => ({}))) as Record<string, unknown> });
      return replies.shift() ?? reply(500, {});
    }),
  );
}

function stubWebAuthn() {
  vi.stubGlobal('PublicKeyCredential', {
    parseCreationOptionsFromJSON: (options: unknown) => options,
    parseRequestOptionsFromJSON: (options: unknown) => options,
  });
  const get = vi.fn(async () => ({ toJSON: () => ({ id: 'cred-1', type: 'public-key' }) }));
  Object.defineProperty(navigator, 'credentials', { configurable: true, value: { get, create: get } });
  return get;
}

function renderSignIn() {
  const router = createMemoryRouter(
    [
      { path: '/sign-in', Component: SignIn },
      { path: '/', element: <p>home page</p> },
    ],
    { initialEntries: ['/sign-in'] },
  );
  render(
    <QueryClientProvider client={new QueryClient()}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  sent.length = 0;
  clearSession();
});

describe('passkeys on the sign-in page', () => {
  it('answers the second step with a passkey when the account has one, and asks for no code', async () => {
    const user = userEvent.setup();
    const get = stubWebAuthn();
    stubFetch(
      reply(401, { error: { code: 'UNAUTHORIZED', message: 'second factor', details: { reason: 'totp_required', methods: ['passkey'] } }, request_id: 'r1' }),
      reply(200, { challenge_id: 'wac_1', public_key: { challenge: 'abc', rpId: 'localhost' } }),
      reply(200, { access_token: 'access-1', expires_in: 900, token_type: 'Bearer' }),
    );
    renderSignIn();

    await user.type(screen.getByLabelText(auth.fields.email), 'ada@example.com');
    await user.type(screen.getByLabelText(auth.fields.password), 'a long password 1');
    await user.click(screen.getByRole('button', { name: auth.signIn.submit }));

    expect(await screen.findByText(t.secondFactor.hint)).toBeInTheDocument();
    expect(screen.queryByLabelText(auth.signIn.code)).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
    await user.click(screen.getByRole('button', { name: t.secondFactor.button }));

    expect(await screen.findByText('home page')).toBeInTheDocument();
    expect(get).toHaveBeenCalledWith({ publicKey: { challenge: 'abc', rpId: 'localhost' } });
    expect(sent[1]?.url).toMatch(/\/v1\/auth\/passkeys\/options$/);
    expect(sent[2]?.body).toMatchObject({
      email: 'ada@example.com',
      password: 'a long password 1',
      passkey: { challenge_id: 'wac_1', credential: { id: 'cred-1', type: 'public-key' } },
    });
    expect(getAccessToken()).toBe('access-1');
  });

  it('signs in with a passkey alone from the first screen', async () => {
    const user = userEvent.setup();
    stubWebAuthn();
    stubFetch(
      reply(200, { challenge_id: 'wac_2', public_key: { challenge: 'def' } }),
      reply(200, { access_token: 'access-2', expires_in: 900, token_type: 'Bearer' }),
    );
    renderSignIn();

    await user.click(screen.getByRole('button', { name: t.signIn.button }));

    expect(await screen.findByText('home page')).toBeInTheDocument();
    expect(sent[1]?.url).toMatch(/\/v1\/auth\/passkeys\/login$/);
    expect(sent[1]?.body).toEqual({ challenge_id: 'wac_2', credential: { id: 'cred-1', type: 'public-key' } });
    expect(getAccessToken()).toBe('access-2');
  });
});
