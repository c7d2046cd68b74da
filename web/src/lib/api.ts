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

/** Asks the API to set and rotate the refresh token as an HttpOnly cookie (docs/web-api.md). */
export const COOKIE_MODE_HEADER = 'X-Refresh-Mode';
export const COOKIE_MODE_VALUE = 'cookie';

// Before cookie mode exists on a panel the JSON refresh token is kept here, in memory only:
// a reload then signs out, which is safe, and nothing reaches web storage.
let memoryRefreshToken: string | null = null;
let refreshing: Promise<boolean> | null = null;

interface TokenReply {
  access_token: string;
  expires_in: number;
  refresh_token?: string | null;
}

/** Keep the tokens of a login, refresh or accepted sign-up. */
export function adoptTokens(reply: TokenReply): void {
  setSession(reply.access_token, reply.expires_in);
  memoryRefreshToken = reply.refresh_token || null;
}

async function doRefresh(): Promise<boolean> {
  try {
    const body = memoryRefreshToken ? { refresh_token: memoryRefreshToken } : {};
    const res = await fetch('/v1/auth/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', [COOKIE_MODE_HEADER]: COOKIE_MODE_VALUE },
      body: JSON.stringify(body),
    });
    if (!res.ok) {
      clearSession();
      memoryRefreshToken = null;
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
      body: JSON.stringify(memoryRefreshToken ? { refresh_token: memoryRefreshToken } : {}),
    });
  } finally {
    memoryRefreshToken = null;
    clearSession();
  }
}

const AUTH_FREE = ['/v1/auth/login', '/v1/auth/register', '/v1/auth/refresh', '/v1/auth/password/', '/v1/auth/verify-email'];

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

export const api = createClient<paths>({ baseUrl: '', fetch: send, credentials: 'same-origin' });

/** The data of an openapi-fetch result, or its error as an ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw ApiError.fromBody(result.response.status, result.error);
  }
  return result.data as T;
}
