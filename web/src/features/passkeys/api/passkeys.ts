/**
 * Passkeys (docs/passkeys.md): the account's passkeys (register, list, rename, delete), and the
 * browser's side of a ceremony. The panel sends the options in their JSON form and takes the
 * credential's `toJSON()`: the browser's own WebAuthn JSON methods convert both ways, so no
 * base64url or CBOR code lives here.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { adoptTokens, api, unwrap } from '@/lib/api';

export type Passkey = components['schemas']['PasskeyOut'];
type Ceremony = components['schemas']['CeremonyOut'];
type Answer = components['schemas']['PasskeyAnswerIn'];

export const passkeysKey = ['me', 'passkeys'] as const;

/** The WebAuthn JSON helpers (Chromium 129+, Firefox 119+, Safari 18.4+), typed where TS's DOM lib lags. */
interface JsonCredentialStatics {
  parseCreationOptionsFromJSON(options: unknown): PublicKeyCredentialCreationOptions;
  parseRequestOptionsFromJSON(options: unknown): PublicKeyCredentialRequestOptions;
}
interface JsonCredential extends PublicKeyCredential {
  toJSON(): Record<string, unknown>;
}

/**
 * Whether passkeys work here: the browser has WebAuthn and its JSON helpers, and the panel is
 * opened under a host name (browsers refuse WebAuthn on an IP address, such as a local stack on
 * 127.0.0.1; docs/passkeys.md).
 */
export function passkeysSupported(): boolean {
  if (typeof window === 'undefined') return false;
  const statics = window.PublicKeyCredential as unknown as Partial<JsonCredentialStatics> | undefined;
  return typeof statics?.parseRequestOptionsFromJSON === 'function' && !onIpAddress(window.location.hostname);
}

function onIpAddress(hostname: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.startsWith('[');
}

function statics(): JsonCredentialStatics {
  return window.PublicKeyCredential as unknown as JsonCredentialStatics;
}

/** Thrown when the person closed the browser's prompt or it timed out: nothing to report as an error. */
export class PasskeyCancelled extends Error {
  constructor() {
    super('passkey prompt cancelled');
    this.name = 'PasskeyCancelled';
  }
}

function fromDom(error: unknown): never {
  if (error instanceof DOMException && (error.name === 'NotAllowedError' || error.name === 'AbortError')) {
    throw new PasskeyCancelled();
  }
  throw error;
}

async function create(ceremony: Ceremony): Promise<Answer> {
  try {
    const publicKey = statics().parseCreationOptionsFromJSON(ceremony.public_key);
    const made = (await navigator.credentials.create({ publicKey })) as JsonCredential | null;
    if (!made) throw new PasskeyCancelled();
    return { challenge_id: ceremony.challenge_id, credential: made.toJSON() };
  } catch (error) {
    return fromDom(error);
  }
}

async function get(ceremony: Ceremony): Promise<Answer> {
  try {
    const publicKey = statics().parseRequestOptionsFromJSON(ceremony.public_key);
    const found = (await navigator.credentials.get({ publicKey })) as JsonCredential | null;
    if (!found) throw new PasskeyCancelled();
    return { challenge_id: ceremony.challenge_id, credential: found.toJSON() };
  } catch (error) {
    return fromDom(error);
  }
}

/** Ask the browser for one of the panel's passkeys (any account's: the passkey names it). */
export async function askForPasskey(): Promise<Answer> {
  return get(unwrap(await api.POST('/v1/auth/passkeys/options')));
}

export function usePasskeys() {
  return useQuery({ queryKey: passkeysKey, queryFn: async () => unwrap(await api.GET('/v1/me/passkeys')) });
}

export function useRegisterPasskey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (name: string) => {
      const answer = await create(unwrap(await api.POST('/v1/me/passkeys/registration')));
      return unwrap(await api.POST('/v1/me/passkeys', { body: { ...answer, name: name || null } }));
    },
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: passkeysKey }), client.invalidateQueries({ queryKey: ['me'] })]),
  });
}

export function useRenamePasskey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ id, name }: { id: string; name: string }) =>
      unwrap(await api.PATCH('/v1/me/passkeys/{passkey_id}', { params: { path: { passkey_id: id } }, body: { name } })),
    onSettled: () => client.invalidateQueries({ queryKey: passkeysKey }),
  });
}

export function useDeletePasskey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.DELETE('/v1/me/passkeys/{passkey_id}', { params: { path: { passkey_id: id } } })),
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: passkeysKey }), client.invalidateQueries({ queryKey: ['me'] })]),
  });
}

/** Sign in with a passkey alone: the same session (cookie mode) as a password sign-in. */
export function usePasskeySignIn() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/auth/passkeys/login', { body: await askForPasskey() })),
    onSuccess: (tokens) => {
      client.clear();
      adoptTokens(tokens);
    },
  });
}
