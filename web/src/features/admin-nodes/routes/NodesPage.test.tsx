import { screen, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { NodesPage } from './NodesPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const node = (id: string, name: string, over: Record<string, unknown>) => ({
  id, uuid: id, name, location: '', fqdn: `${id}.example.com`, scheme: 'https', behind_proxy: false, daemon_port: 8080, sftp_port: 2022,
  daemon_base: '/var/lib/pterodactyl/volumes', upload_limit_mb: 100, memory_mb: 8192, memory_overallocate_percent: 0, disk_mb: 10240,
  disk_overallocate_percent: 0, maintenance: false, allowed_tenants: [], allowed_origins: [], tags: [], token_id: 't', connection_address: `https://${id}.example.com:8080`,
  created_at: '', updated_at: '', health: null, ...over,
});

beforeEach(() => {
  resetApi();
  answer('GET', '/v1/admin/overview', {
    body: {
      tenants: {}, servers: {}, counted_at: '2026-12-05T03:00:00Z', failed_operations_24h: 0, dead_letters: 0, last_reconcile: null,
      nodes: {
        online: 1, offline: 0, unauthorized: 1, unknown: 0, memory_mb: 16384, committed_memory_mb: 9216, disk_mb: 20480, committed_disk_mb: 1024,
        items: [
          { id: 'n_full', name: 'Full', status: 'online', memory_mb: 8192, committed_memory_mb: 9216, disk_mb: 10240, committed_disk_mb: 1024 },
        ],
      },
    },
  });
});

describe('NodesPage', () => {
  it("shows each node's health, version, maintenance and committed resources against its total", async () => {
    answer('GET', '/v1/admin/nodes', {
      body: {
        items: [
          node('n_full', 'Full', { memory_overallocate_percent: 20, health: { status: 'online', version: '1.11.11', last_seen_at: null, checked_at: null } }),
          node('n_bad', 'Refused', { maintenance: true, health: { status: 'unauthorized', version: null, last_seen_at: '2026-12-04T10:00:00Z', checked_at: null } }),
        ],
        next_cursor: null,
      },
    });
    renderWithApp(<NodesPage />, { path: '/admin/nodes', route: '/admin/nodes' });

    const full = await screen.findByRole('row', { name: /Full/ });
    expect(within(full).getByText('Online')).toBeInTheDocument();
    expect(within(full).getByText('1.11.11')).toBeInTheDocument();
    // Committed past the total (over-allocation allows it): the bar is full and the text says so
    expect(await within(full).findByText(/9 GB of 8 GB committed \(112\.5 %, over-allocated\)/)).toBeInTheDocument();
    expect(within(full).getByRole('meter', { name: 'Memory of Full' })).toHaveAttribute('value', '9216');
    const refused = screen.getByRole('row', { name: /Refused/ });
    expect(within(refused).getByText('Token refused')).toBeInTheDocument();
    expect(within(refused).getByText('Maintenance')).toBeInTheDocument();
    expect(within(refused).getByText(/last seen/)).toBeInTheDocument();
    expect(within(refused).getByText('Not known yet')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Refused' })).toHaveAttribute('href', '/admin/nodes/n_bad');
  });

  it('offers to add the first node when there is none', async () => {
    answer('GET', '/v1/admin/nodes', { body: { items: [], next_cursor: null } });
    renderWithApp(<NodesPage />, { path: '/admin/nodes', route: '/admin/nodes' });

    expect(await screen.findByText(/No nodes yet/)).toBeInTheDocument();
    expect(screen.getAllByRole('link', { name: 'Add a node' }).every((l) => l.getAttribute('href') === '/admin/nodes/new')).toBe(true);
  });
});
