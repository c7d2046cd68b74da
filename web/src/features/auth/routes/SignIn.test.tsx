import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import en from '@/locales/en/auth.json';
import errors from '@/locales/en/errors.json';
import { clearSession, getAccessToken } from '@/lib/session';
import { getSignInNotice, setSignInNotice } from '../api/session';
import { SignIn } from './SignIn';

function reply(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function renderAt(path: string) {
  const router = createMemoryRouter(
    [
      { path: '/sign-in', Component: SignIn },
      { path: '/t/:id', element: <p>tenant page</p> },
      { path: '/', element: <p>home page</p> },
    ],
    { initialEntries: [path] },
  );
  render(
    <QueryClientProvider client={new QueryClient()}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
}

const sent: { url: string; headers: Headers; body: Record<string, unknown> }[] = [];
function stubFetch(...replies: Response[]) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      // The provider buttons' list (GET /v1/auth/providers) is not part of these conversations.
      if (new URL(request.url).pathname === '/v1/auth/providers') return reply(200, { items: [] });
      sent.push({ url: request.url, headers: request.headers, body: (await request.clone().json()) as Record<string, unknown> });
      return replies.shift() ?? reply(500, {});
    }),
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  sent.length = 0;
  clearSession();
});

describe('SignIn', () => {
  it('asks for the authenticator code when the API answers totp_required, then signs in with it', async () => {
    const user = userEvent.setup();
    stubFetch(
      reply(401, { error: { code: 'UNAUTHORIZED', message: 'code needed', details: { reason: 'totp_required' } }, request_id: 'r1' }),
      reply(200, { access_token: 'access-1', expires_in: 900, token_type: 'Bearer' }),
    );
    renderAt('/sign-in?next=/t/tn_1');

    await user.type(screen.getByLabelText(en.fields.email), 'ada@example.com');
    await user.type(screen.getByLabelText(en.fields.password), 'a long password 1');
    await user.click(screen.getByRole('button', { name: en.signIn.submit }));

    const code = await screen.findByLabelText(en.signIn.code);
    expect(screen.queryByRole('alert')).toBeNull(); // the prompt is the answer, not an error
    await user.type(code, '123456');
    await user.click(screen.getByRole('button', { name: en.signIn.submit }));

    expect(await screen.findByText('tenant page')).toBeInTheDocument();
    expect(sent[1]?.body).toMatchObject({ email: 'ada@example.com', totp_code: '123456' });
    expect(sent[1]?.headers.get('X-Mamba-Client')).toBe('web'); // cookie mode for the refresh token
    expect(getAccessToken()).toBe('access-1');
  });

  it('says a wrong password in a sentence, and never follows an off-site next', async () => {
    const user = userEvent.setup();
    stubFetch(
      reply(401, { error: { code: 'UNAUTHORIZED', message: 'bad', details: { reason: 'invalid_credentials' } }, request_id: 'r2' }),
      reply(200, { access_token: 'access-2', expires_in: 900, token_type: 'Bearer' }),
    );
    renderAt('/sign-in?next=//evil.example/');
    await user.type(screen.getByLabelText(en.fields.email), 'ada@example.com');
    await user.type(screen.getByLabelText(en.fields.password), 'wrong');
    await user.click(screen.getByRole('button', { name: en.signIn.submit }));
    expect(await screen.findByRole('alert')).toHaveTextContent(errors.reasons.invalid_credentials);
    expect(screen.queryByLabelText(en.signIn.code)).toBeNull();

    await user.click(screen.getByRole('button', { name: en.signIn.submit }));
    expect(await screen.findByText('home page')).toBeInTheDocument();
  });

  it('says why after a password change ended the session, until the next sign in', async () => {
    const user = userEvent.setup();
    stubFetch(reply(200, { access_token: 'access-3', expires_in: 900, token_type: 'Bearer' }));
    setSignInNotice('passwordChanged');
    renderAt('/sign-in?next=/t/tn_1');

    expect(screen.getByText(en.signIn.notice.passwordChanged)).toBeInTheDocument();
    await user.type(screen.getByLabelText(en.fields.email), 'ada@example.com');
    await user.type(screen.getByLabelText(en.fields.password), 'the new long password');
    await user.click(screen.getByRole('button', { name: en.signIn.submit }));

    expect(await screen.findByText('tenant page')).toBeInTheDocument();
    expect(getSignInNotice()).toBeNull();
  });
});
