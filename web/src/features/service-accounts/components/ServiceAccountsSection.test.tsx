import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { setSession } from '@/lib/session';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { ServiceAccountsSection } from './ServiceAccountsSection';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const account = {
  id: 'sa_ci',
  name: 'deploy pipeline',
  description: null,
  role: 'operator',
  permissions: ['servers.power', 'servers.read'],
  server_id: null,
  expires_at: null,
  expired: false,
  created_at: '2026-12-01T10:00:00Z',
  created_by: 'usr_ada',
  updated_at: null,
};
const key = (over: Record<string, unknown>) => ({
  id: 'key_1', name: 'ci', prefix: 'mhp_sa_ci.key_1', hint: 'x9Qa', scopes: ['servers.read'], server_ids: [], allowed_ips: [],
  expires_at: null, created_at: '2026-12-01T10:00:00Z', revoked_at: null, last_used_at: null, last_used_ip: null, replaced_by: null, ...over,
});

beforeEach(() => {
  resetApi();
  setSession('access-token', 900);
  answer('GET', '/v1/tenants/{tenant_id}/servers', { body: { items: [], next_cursor: null } });
  answer('GET', '/v1/tenants/{tenant_id}/service-accounts', { body: { items: [account], next_cursor: null } });
});

describe('ServiceAccountsSection', () => {
  it('lists service accounts and, once two keys are active, says so and offers no third', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/service-accounts/{service_account_id}/keys', {
      body: { items: [key({ id: 'key_2', name: 'new' }), key({ id: 'key_1', name: 'old' })], next_cursor: null },
    });
    renderWithApp(<ServiceAccountsSection tenantId="t1" />, { path: '/t/:tenantId/members', route: '/t/t1/members' });

    await userEvent.click(await screen.findByRole('button', { name: 'Keys of deploy pipeline' }));

    const keys = await screen.findByRole('region', { name: 'Keys of deploy pipeline' });
    const rows = await within(keys).findAllByRole('rowheader');
    expect(rows.map((r) => r.textContent)).toEqual(['new', 'old']);
    expect(within(rows[1]!.closest('tr') as HTMLElement).getByText((_, el) => el?.tagName === 'CODE' && el.textContent === 'mhp_sa_ci.key_1.…x9Qa')).toBeInTheDocument();
    expect(within(keys).getByText(/already has 2 active keys/)).toBeInTheDocument();
    expect(within(keys).getByRole('button', { name: 'Create key' })).toBeDisabled();
  });

  it('shows a new key once, scoped within the account role', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/service-accounts/{service_account_id}/keys', { body: { items: [], next_cursor: null } });
    answer('POST', '/v1/tenants/{tenant_id}/service-accounts/{service_account_id}/keys', {
      status: 201,
      body: { ...key({ name: 'ci 2026-12' }), key: 'mhp_sa_ci.key_1.secret-shown-once' },
    });
    renderWithApp(<ServiceAccountsSection tenantId="t1" />, { path: '/t/:tenantId/members', route: '/t/t1/members' });
    await userEvent.click(await screen.findByRole('button', { name: 'Keys of deploy pipeline' }));
    const keys = await screen.findByRole('region', { name: 'Keys of deploy pipeline' });

    await userEvent.click(within(keys).getByText('Create a key'));
    await userEvent.type(within(keys).getByLabelText(/^Name/), 'ci 2026-12');
    await userEvent.click(within(keys).getByRole('button', { name: 'Create key' }));

    expect(await screen.findByTestId('new-service-key')).toHaveTextContent('mhp_sa_ci.key_1.secret-shown-once');
    const sent = calls.find((c) => c.method === 'POST')!.init.body as { scopes: string[] };
    expect(sent.scopes).toEqual(['servers.read']);
  });

  it('changes a service account role and never offers the owner role', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/roles', {
      body: {
        items: [
          { id: 'owner', name: 'owner', builtin: true, permissions: [], description: null, members: 1 },
          { id: 'admin', name: 'admin', builtin: true, permissions: [], description: null, members: 0 },
          { id: 'operator', name: 'operator', builtin: true, permissions: [], description: null, members: 0 },
        ],
        next_cursor: null,
      },
    });
    answer('PATCH', '/v1/tenants/{tenant_id}/service-accounts/{service_account_id}', { body: { ...account, role: 'admin' } });
    renderWithApp(<ServiceAccountsSection tenantId="t1" />, { path: '/t/:tenantId/members', route: '/t/t1/members' });

    await userEvent.click(await screen.findByRole('button', { name: 'Change deploy pipeline' }));
    const form = await screen.findByRole('form', { name: 'Change the service account deploy pipeline' });
    const role = within(form).getByLabelText(/^Role/);
    await within(form).findByRole('option', { name: /admin/i });
    expect(within(role).queryByRole('option', { name: /owner/i })).toBeNull();
    await userEvent.selectOptions(role, 'admin');
    await userEvent.click(within(form).getByRole('button', { name: 'Save' }));

    await vi.waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true));
    const sent = calls.find((c) => c.method === 'PATCH')!.init.body as { role: string; server_id: string | null };
    expect(sent).toMatchObject({ role: 'admin', server_id: null });
  });
});
