/**
 * A stand-in for `@/lib/api` in component tests: each test answers requests by method and
 * path template (the first argument openapi-fetch receives), and can read what was sent.
 * Use with `vi.mock('@/lib/api', () => apiStubModule())`.
 */
import { vi } from 'vitest';
import { ApiError } from '@/lib/errors';

type Answer = { status?: number; body?: unknown } | ((init: Record<string, unknown>) => { status?: number; body?: unknown });
export const calls: { method: string; path: string; init: Record<string, unknown> }[] = [];
const answers = new Map<string, Answer>();

export function answer(method: string, path: string, reply: Answer): void {
  answers.set(`${method} ${path}`, reply);
}

export function resetApi(): void {
  calls.length = 0;
  answers.clear();
}

function handler(method: string) {
  return vi.fn(async (path: string, init: Record<string, unknown> = {}) => {
    calls.push({ method, path, init });
    const found = answers.get(`${method} ${path}`);
    const reply = typeof found === 'function' ? found(init) : (found ?? { status: 404, body: { error: { code: 'NOT_FOUND', message: '', details: {} } } });
    const status = reply.status ?? 200;
    const response = new Response(null, { status: status === 204 ? 204 : status });
    return status < 400 ? { data: reply.body, response } : { error: reply.body, response };
  });
}

export function apiStubModule() {
  return {
    api: { GET: handler('GET'), POST: handler('POST'), PUT: handler('PUT'), PATCH: handler('PATCH'), DELETE: handler('DELETE') },
    unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
      if (result.error !== undefined || !result.response.ok) throw ApiError.fromBody(result.response.status, result.error);
      return result.data as T;
    },
    signOut: vi.fn(async () => {}),
    adoptTokens: vi.fn(),
    COOKIE_MODE_HEADER: 'X-Mamba-Client',
    COOKIE_MODE_VALUE: 'web',
  };
}
