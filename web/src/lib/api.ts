/**
 * The one API client: openapi-fetch typed by `src/api/schema.d.ts` (generated from the panel's
 * /openapi.json). It adds the in-memory access token, refreshes it once on expiry or a 401
 * (single flight, through the refresh cookie), and turns every failure into ApiError or
 * NetworkError. Feature `api/` folders call `api` and `unwrap`; components never call fetch.
 */
import createClient from 'openapi-fetch';
import type { paths } from '@/api/schema';
import { ApiError, NetworkError } from './errors';
import { clearSession, getAccessToken, isExpiring, setSession } from './session';

/**
 * Cookie mode (mamba/auth/cookies.py, docs/accounts.md#cookie-mode): with this header on
 * login, refresh and logout the API keeps the refresh token in the HttpOnly cookie
 * `mamba_refresh` (Path=/v1/auth) and leaves it out of the JSON, and checks Origin.
 */
export const COOKIE_MODE_HEADER = 'X-Mamba-Client';
export const COOKIE_MODE_VALUE = 'web';

let refreshing: Promise<boolean> | null = null;

interface TokenReply {
  access_token: string;
  expires_in: number;
  refresh_token?: string | null;
}

/** Keep the access token of a login or refresh (the refresh token is the cookie's business). */
export function adoptTokens(reply: TokenReply): void {
  setSession(reply.access_token, reply.expires_in);
}

async function doRefresh(): Promise<boolean> {
  try {
    const res = await fetch('/v1/auth/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', [COOKIE_MODE_HEADER]: COOKIE_MODE_VALUE },
      body: '{}',
    });
    if (!res.ok) {
      clearSession();
      return false;
    }
    adoptTokens((await res.json()) as TokenReply);
    return true;
  } catch {
    return false;
  }
}

/** Refresh the access token; concurrent callers share one request (the token rotates once). */
export function refreshSession(): Promise<boolean> {
  refreshing ??= doRefresh().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

export async function signOut(): Promise<void> {
  const token = getAccessToken();
  try {
    await fetch('/v1/auth/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/json',
        [COOKIE_MODE_HEADER]: COOKIE_MODE_VALUE,
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: '{}',
    });
  } finally {
    clearSession();
  }
}

const AUTH_FREE = [
  '/v1/auth/login',
  '/v1/auth/register',
  '/v1/auth/refresh',
  '/v1/auth/password/',
  '/v1/auth/verify-email',
  '/v1/auth/oauth/',
  '/v1/auth/providers',
  '/v1/auth/passkeys/',
];

async function send(request: Request): Promise<Response> {
  const spare = request.clone();
  const path = new URL(request.url).pathname;
  const needsAuth = !AUTH_FREE.some((p) => path.startsWith(p));
  if (needsAuth && isExpiring()) await refreshSession();
  const withToken = (req: Request) => {
    const token = getAccessToken();
    if (needsAuth && token) req.headers.set('Authorization', `Bearer ${token}`);
    if (path.startsWith('/v1/auth/')) req.headers.set(COOKIE_MODE_HEADER, COOKIE_MODE_VALUE);
    return req;
  };
  let res: Response;
  try {
    res = await fetch(withToken(request));
    if (res.status === 401 && needsAuth && getAccessToken() && (await refreshSession())) {
      res = await fetch(withToken(spare));
    }
  } catch (err) {
    throw new NetworkError(err);
  }
  return res;
}

// The page's own origin (the API shares it): absolute, because fetch outside a browser (tests) needs it.
const origin = typeof window !== 'undefined' ? window.location.origin : '';
export const api = createClient<paths>({ baseUrl: origin, fetch: send, credentials: 'same-origin' });

/** The data of an openapi-fetch result, or its error as an ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw ApiError.fromBody(result.response.status, result.error);
  }
  return result.data as T;
}
