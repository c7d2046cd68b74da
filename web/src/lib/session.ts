/**
 * The signed-in session. The access token lives in this module's memory only; the refresh
 * token is an HttpOnly cookie the API sets and rotates (cookie mode, docs/web-api.md), so no
 * token is ever readable by scripts or written to localStorage/sessionStorage.
 */

type Listener = () => void;

let accessToken: string | null = null;
let expiresAt = 0;
const listeners = new Set<Listener>();

export function getAccessToken(): string | null {
  return accessToken;
}

export function setSession(token: string, expiresInSeconds: number): void {
  accessToken = token;
  expiresAt = Date.now() + expiresInSeconds * 1000;
  listeners.forEach((l) => l());
}

export function clearSession(): void {
  accessToken = null;
  expiresAt = 0;
  listeners.forEach((l) => l());
}

/** True when the token expires within `marginMs` (refresh before a request fails). */
export function isExpiring(marginMs = 30_000): boolean {
  return accessToken !== null && Date.now() > expiresAt - marginMs;
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
