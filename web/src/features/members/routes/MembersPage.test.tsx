import { screen, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { setSession } from '@/lib/session';
import { answer, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { MembersPage } from './MembersPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const binding = (over: Record<string, unknown>) => ({
  role: 'viewer', permissions: ['servers.read'], server_id: null, expires_at: null, expired: false, created_at: '2026-12-01T10:00:00Z', ...over,
});

beforeEach(() => {
  resetApi();
  setSession('access-token', 900);
  answer('GET', '/v1/me', {
    body: { id: 'usr_ada', email: 'ada@example.com', name: null, email_verified: true, pending_email: null, is_admin: false, totp_enabled: false, status: 'active', created_at: '2026-01-01T00:00:00Z' },
  });
  answer('GET', '/v1/tenants/{tenant_id}/members/invitations', { body: { items: [], next_cursor: null } });
  answer('GET', '/v1/tenants/{tenant_id}/servers', { body: { items: [], next_cursor: null } });
});

describe('MembersPage', () => {
  it('names each member by email (and name), never by the bare user id', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/members', {
      body: {
        items: [
          binding({ user_id: 'usr_ada', email: 'ada@example.com', name: null, role: 'owner' }),
          binding({ user_id: 'usr_bob', email: 'bob@example.org', name: 'Bob B.' }),
          binding({ user_id: 'usr_gone', email: null, name: null }),
        ],
        next_cursor: null,
      },
    });
    renderWithApp(<MembersPage />, { path: '/t/:tenantId/members', route: '/t/t1/members' });

    const rows = await screen.findAllByRole('rowheader');
    expect(rows.map((r) => r.textContent)).toEqual(['ada@example.com (you)', 'Bob B.bob@example.org', 'usr_gone']);
    expect(screen.queryByText('usr_bob')).toBeNull();
    const bob = rows[1]!.closest('tr') as HTMLElement;
    expect(within(bob).getByRole('button', { name: 'Remove bob@example.org' })).toBeInTheDocument();
  });
});
