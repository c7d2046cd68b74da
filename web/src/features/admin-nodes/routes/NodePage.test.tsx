import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { NodePage } from './NodePage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const node = {
  id: 'node_a', uuid: 'u', name: 'Frankfurt 1', location: 'fra', fqdn: '203.0.113.10', scheme: 'https', behind_proxy: false,
  daemon_port: 8080, sftp_port: 2022, daemon_base: '/var/lib/pterodactyl/volumes', upload_limit_mb: 100, memory_mb: 8192,
  memory_overallocate_percent: 0, disk_mb: 51200, disk_overallocate_percent: 0, maintenance: false, allowed_tenants: [], allowed_origins: [], tags: [],
  token_id: 'tok', connection_address: 'https://203.0.113.10:8080', created_at: '', updated_at: '',
  health: { status: 'online', version: '1.11.11', last_seen_at: '2026-12-05T03:00:00Z', checked_at: '2026-12-05T03:00:00Z' },
};
const server = (uuid: string, name: string, live: unknown) => ({
  uuid, name, status: 'running', tenant: { id: 'ten_1', name: 'Acme' }, node: { id: 'node_a', name: 'Frankfurt 1' },
  memory_mb: 1024, disk_mb: 2048, allocation: '203.0.113.10:25565', created_at: '', updated_at: '', live,
});
const allocation = (port: number, serverId: string | null) => ({
  id: `203.0.113.10_${port}`, ip: '203.0.113.10', port, alias: null, notes: null, server_id: serverId, assigned: serverId !== null, created_at: '',
});

beforeEach(() => {
  resetApi();
  answer('GET', '/v1/admin/nodes/{node_id}', { body: node });
  answer('GET', '/v1/admin/overview', {
    body: {
      tenants: {}, servers: {}, counted_at: null, failed_operations_24h: 0, dead_letters: 0, last_reconcile: null,
      nodes: { online: 1, offline: 0, unauthorized: 0, unknown: 0, memory_mb: 8192, committed_memory_mb: 1024, disk_mb: 51200, committed_disk_mb: 2048,
        items: [{ id: 'node_a', name: 'Frankfurt 1', status: 'online', memory_mb: 8192, committed_memory_mb: 1024, disk_mb: 51200, committed_disk_mb: 2048 }] },
    },
  });
  answer('GET', '/v1/admin/nodes/{node_id}/allocations', { body: { items: [allocation(25565, 'srv-1'), allocation(25566, null)], next_cursor: null } });
});

describe('NodePage', () => {
  it("names the server holding each allocation and refuses to delete a held one, with the reason", async () => {
    answer('GET', '/v1/admin/nodes/{node_id}/servers', {
      body: { node_reachable: true, items: [server('srv-1', 'Survival', { state: 'running', is_suspended: false })], next_cursor: null },
    });
    renderWithApp(<NodePage />, { path: '/admin/nodes/:nodeId', route: '/admin/nodes/node_a' });

    const table = await screen.findByRole('table', { name: 'Allocations' });
    const held = within(table).getByRole('row', { name: /25565/ });
    expect(await within(held).findByRole('link', { name: 'Survival' })).toHaveAttribute('href', '/admin/servers/srv-1');
    expect(within(held).getByRole('button', { name: 'Delete 203.0.113.10:25565' })).toBeDisabled();
    expect(within(held).getByRole('button', { name: 'Delete 203.0.113.10:25565' })).toHaveAccessibleDescription(
      'An address a server holds cannot be deleted.',
    );
    const free = within(table).getByRole('row', { name: /25566/ });
    expect(within(free).getByText('Free')).toBeInTheDocument();
    expect(within(free).getByRole('button', { name: 'Delete 203.0.113.10:25566' })).toBeEnabled();
    // The server's live state from Wings sits beside the panel's stored status
    const servers = screen.getByRole('table', { name: 'Servers on this node' });
    expect(within(servers).getByRole('row', { name: /Survival/ })).toHaveTextContent('Running');
    expect(screen.getByRole('meter', { name: 'Memory' })).toHaveAttribute('value', '1024');
  });

  it('says so when the node does not answer, and shows live states as unknown', async () => {
    answer('GET', '/v1/admin/nodes/{node_id}/servers', {
      body: { node_reachable: false, items: [server('srv-1', 'Survival', null)], next_cursor: null },
    });
    renderWithApp(<NodePage />, { path: '/admin/nodes/:nodeId', route: '/admin/nodes/node_a' });

    expect(await screen.findByText('The node does not answer: live states are unknown.')).toBeInTheDocument();
    expect(within(screen.getByRole('table', { name: 'Servers on this node' })).getByText('Unknown')).toBeInTheDocument();
  });

  it('adds a port range as the API expects it and reports the ports that already existed', async () => {
    answer('GET', '/v1/admin/nodes/{node_id}/servers', { body: { node_reachable: true, items: [], next_cursor: null } });
    answer('POST', '/v1/admin/nodes/{node_id}/allocations', {
      status: 201,
      body: { items: [allocation(25570, null), allocation(25571, null)], conflicts: ['203.0.113.10:25565'] },
    });
    renderWithApp(<NodePage />, { path: '/admin/nodes/:nodeId', route: '/admin/nodes/node_a' });
    const user = userEvent.setup();

    await screen.findByRole('table', { name: 'Allocations' });
    expect(screen.getByLabelText('IP address')).toHaveValue('203.0.113.10');
    await user.type(screen.getByLabelText('Ports and ranges'), '25565, 25570-25571');
    await user.click(screen.getByRole('button', { name: 'Add the ports' }));

    expect(await screen.findByText(/2 ports added\. Already there and left alone: 203\.0\.113\.10:25565\./)).toBeInTheDocument();
    const sent = calls.find((c) => c.method === 'POST')?.init.body;
    expect(sent).toEqual({ ip: '203.0.113.10', ports: [25565, '25570-25571'], alias: null, notes: null });
  });
});
