import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { AuditPage } from './AuditPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const entry = {
  id: 'a1', at: '2026-12-01T10:00:00Z', action: 'create_server', actor: { user_id: 'usr_1', via: 'token' }, tenant_id: 'tn_a',
  result: 'success', status: 202, target: '/v1/tenants/tn_a/servers', ip: '127.0.0.1', request_id: 'r1',
};
const queries = () => calls.filter((c) => c.path === '/v1/admin/audit').map((c) => (c.init.params as { query: Record<string, unknown> }).query);

beforeEach(() => {
  resetApi();
  answer('GET', '/v1/admin/audit', { body: { items: [entry], next_cursor: null } });
});

describe('AuditPage', () => {
  it("shows a tenant's log when the address names the tenant (the tenant page links here)", async () => {
    renderWithApp(<AuditPage />, { path: '/admin/audit', route: '/admin/audit?tenant_id=tn_a' });
    expect(await screen.findByRole('heading', { level: 2, name: 'Log of tenant tn_a' })).toBeInTheDocument();
    expect(await screen.findByRole('rowheader', { name: 'create_server' })).toBeInTheDocument();
    expect(queries()[0]).toMatchObject({ tenant_id: 'tn_a', log: undefined });
    expect(screen.getByLabelText('Log')).toBeDisabled();
  });

  it('switches to the security log', async () => {
    renderWithApp(<AuditPage />, { path: '/admin/audit', route: '/admin/audit' });
    expect(await screen.findByRole('heading', { level: 2, name: 'Platform log' })).toBeInTheDocument();
    await userEvent.selectOptions(screen.getByLabelText('Log'), 'security');
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    expect(await screen.findByRole('heading', { level: 2, name: 'Security log' })).toBeInTheDocument();
    await waitFor(() => expect(queries().at(-1)).toMatchObject({ log: 'security' }));
  });
});
