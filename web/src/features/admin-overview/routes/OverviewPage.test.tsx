import { act, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { OverviewPage } from './OverviewPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const figures = (failed: number) => ({
  tenants: { active: 3, suspended: 1 },
  servers: { running: 5, offline: 2, mystery_status: 1 },
  counted_at: '2026-12-05T03:00:00Z',
  nodes: {
    online: 1, offline: 1, unauthorized: 0, unknown: 0, memory_mb: 8192, committed_memory_mb: 4096, disk_mb: 51200, committed_disk_mb: 1024,
    items: [],
  },
  failed_operations_24h: failed,
  dead_letters: 9,
  last_reconcile: { at: '2026-12-05T03:00:00Z', nodes: 2, failed_nodes: 1, changed: 0 },
});

beforeEach(() => {
  resetApi();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('OverviewPage', () => {
  it('links every figure to the list it counts', async () => {
    answer('GET', '/v1/admin/overview', { body: figures(41) });
    renderWithApp(<OverviewPage />, { path: '/admin', route: '/admin' });

    expect(await screen.findByRole('link', { name: 'Failed operations (last 24 hours): 41' })).toHaveAttribute('href', '/admin/operations?status=failed');
    expect(screen.getByRole('link', { name: 'Stripe events in the dead-letter queue: 9' })).toHaveAttribute('href', '/admin/dead-letters');
    const tenants = screen.getByRole('list', { name: '4 tenants' });
    expect(within(tenants).getByRole('link', { name: 'Suspended 1' })).toHaveAttribute('href', '/admin/tenants');
    const servers = screen.getByRole('list', { name: '8 servers' });
    expect(within(servers).getByRole('link', { name: 'Running 5' })).toHaveAttribute('href', '/admin/servers?status=running');
    // A status the app has no word for is shown as the API spells it, not as a missing key
    expect(within(servers).getByRole('link', { name: 'mystery_status 1' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: '2 nodes' })).toHaveAttribute('href', '/admin/nodes');
    expect(screen.getByRole('meter', { name: 'Memory of all nodes' })).toHaveAttribute('value', '4096');
  });

  it('re-reads the figures every 30 seconds in place and says when', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let failed = 11;
    answer('GET', '/v1/admin/overview', () => ({ body: figures(failed) }));
    renderWithApp(<OverviewPage />, { path: '/admin', route: '/admin' });
    expect(await screen.findByRole('link', { name: 'Failed operations (last 24 hours): 11' })).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent(/^Updated at /);

    failed = 77;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(29_000);
    });
    expect(screen.queryByRole('link', { name: 'Failed operations (last 24 hours): 77' })).toBeNull();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(2_000);
    });
    expect(await screen.findByRole('link', { name: 'Failed operations (last 24 hours): 77' })).toHaveAttribute('href', '/admin/operations?status=failed');
    expect(calls.filter((c) => c.path === '/v1/admin/overview')).toHaveLength(2);
  });
});
