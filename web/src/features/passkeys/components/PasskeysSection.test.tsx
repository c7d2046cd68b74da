import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import t from '@/locales/en/passkeys.json';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { PasskeysSection } from './PasskeysSection';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const laptop = {
  id: 'pk_laptop',
  name: 'Laptop',
  created_at: '2026-12-01T10:00:00Z',
  last_used_at: null,
  backup_eligible: true,
  backed_up: true,
  transports: ['internal'],
  aaguid: null,
};

/** The browser's WebAuthn with its JSON helpers; `create` answers like an authenticator. */
function stubWebAuthn(create: () => Promise<unknown>) {
  vi.stubGlobal('PublicKeyCredential', {
    parseCreationOptionsFromJSON: (options: unknown) => ({ parsed: options }),
    parseRequestOptionsFromJSON: (options: unknown) => ({ parsed: options }),
  });
  Object.defineProperty(navigator, 'credentials', { configurable: true, value: { create, get: create } });
}

beforeEach(() => {
  resetApi();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('PasskeysSection', () => {
  it('adds a passkey through the browser prompt and sends its JSON with the challenge and the name', async () => {
    const user = userEvent.setup();
    let items: (typeof laptop)[] = [];
    answer('GET', '/v1/me/passkeys', () => ({ body: { items, next_cursor: null } }));
    answer('POST', '/v1/me/passkeys/registration', { body: { challenge_id: 'wac_1', public_key: { challenge: 'abc' } } });
    answer('POST', '/v1/me/passkeys', () => {
      items = [laptop];
      return { status: 201, body: laptop };
    });
    stubWebAuthn(async () => ({ toJSON: () => ({ id: 'cred', type: 'public-key' }) }));
    renderWithApp(<PasskeysSection />);

    expect(await screen.findByText(t.empty)).toBeInTheDocument();
    await user.type(screen.getByLabelText(t.newName), 'Laptop');
    await user.click(screen.getByRole('button', { name: t.add }));

    expect(await screen.findByText(t.added_notice.replace('{{name}}', 'Laptop'))).toBeInTheDocument();
    const finish = calls.find((c) => c.method === 'POST' && c.path === '/v1/me/passkeys');
    expect(finish?.init.body).toEqual({ challenge_id: 'wac_1', credential: { id: 'cred', type: 'public-key' }, name: 'Laptop' });
    const row = (await screen.findByRole('rowheader', { name: 'Laptop' })).closest('tr')!;
    expect(within(row).getByText(t.never)).toBeInTheDocument();
    expect(within(row).getByText(t.syncedYes)).toBeInTheDocument();
  });

  it('says no passkey was made when the browser prompt is closed, without an error', async () => {
    const user = userEvent.setup();
    answer('GET', '/v1/me/passkeys', { body: { items: [], next_cursor: null } });
    answer('POST', '/v1/me/passkeys/registration', { body: { challenge_id: 'wac_1', public_key: {} } });
    stubWebAuthn(async () => {
      throw new DOMException('closed', 'NotAllowedError');
    });
    renderWithApp(<PasskeysSection />);

    await user.click(await screen.findByRole('button', { name: t.add }));

    expect(await screen.findByText(t.cancelled)).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(calls.some((c) => c.method === 'POST' && c.path === '/v1/me/passkeys')).toBe(false);
  });

  it('deletes a passkey after confirming', async () => {
    const user = userEvent.setup();
    let items = [laptop];
    answer('GET', '/v1/me/passkeys', () => ({ body: { items, next_cursor: null } }));
    answer('DELETE', '/v1/me/passkeys/{passkey_id}', () => {
      items = [];
      return { status: 204 };
    });
    stubWebAuthn(async () => null);
    renderWithApp(<PasskeysSection />);

    await user.click(await screen.findByRole('button', { name: t.deleteNamed.replace('{{name}}', 'Laptop') }));
    const dialog = await screen.findByRole('alertdialog');
    await user.click(within(dialog).getByRole('button', { name: t.delete }));

    await waitFor(() => expect(screen.getByText(t.empty)).toBeInTheDocument());
    const sent = calls.find((c) => c.method === 'DELETE');
    expect(sent?.init).toMatchObject({ params: { path: { passkey_id: 'pk_laptop' } } });
  });

  it('explains that passkeys cannot be used when the browser has no WebAuthn', async () => {
    answer('GET', '/v1/me/passkeys', { body: { items: [], next_cursor: null } });
    renderWithApp(<PasskeysSection />);

    expect(await screen.findByText(t.unsupported)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: t.add })).not.toBeInTheDocument();
  });
});
