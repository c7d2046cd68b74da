import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { MetricsPage } from './MetricsPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());
// jsdom has no canvas: the chart is replaced, the page around it is real.
vi.mock('@/components/metrics/Chart', () => ({ default: () => <div data-testid="chart" /> }));

const server = {
  uuid: 'srv-1', short_id: 'srv1', name: 'Survival', status: 'running', status_reason: null, suspended: false,
  allocation: { ip: '127.0.0.1', port: 25565 }, limits: { memory_mb: 1024, disk_mb: 2048, cpu_percent: 100 },
};
const point = (t: number, cpu: number) => ({
  t, cpu_percent: cpu, memory_bytes: 512 * 1024 ** 2, memory_limit_bytes: 1024 ** 3, rx_bytes: 3_000, tx_bytes: 600, disk_bytes: 10 * 1024 ** 2, state: 'running',
});

beforeEach(() => {
  resetApi();
  answer('GET', '/v1/tenants/{tenant_id}/servers/{server_id}', { body: server });
  answer('GET', '/v1/tenants/{tenant_id}/servers/{server_id}/metrics', (init) => {
    const query = (init.params as { query: { format?: string } }).query;
    if (query.format === 'csv') return { body: 't,cpu_percent\r\n1764900000,12.5\r\n' };
    return { body: { resolution: '5m', points: [point(1_764_900_000, 12.5), point(1_764_900_300, 40)] } };
  });
  answer('GET', '/v1/tenants/{tenant_id}/servers/{server_id}/events', (init) =>
    (init.params as { query: { cursor?: string } }).query.cursor === 'c2'
      ? { body: { items: [{ id: 'ev0', type: 'server.crashed', at: '2026-12-04T07:00:00Z', details: {} }], next_cursor: null } }
      : {
          body: {
            items: [
              { id: 'ev2', type: 'server.crash_loop', at: '2026-12-05T07:10:00Z', details: { crashes: 3, window_seconds: 600 } },
              { id: 'ev1', type: 'server.oom_suspected', at: '2026-12-05T07:05:00Z', details: { memory_bytes: 1_020 * 1024 ** 2, memory_limit_bytes: 1024 ** 3 } },
            ],
            next_cursor: 'c2',
          },
        },
  );
});

describe('MetricsPage', () => {
  it('asks for the last 24 hours at the resolution the API picks, and charts what it answers', async () => {
    renderWithApp(<MetricsPage />, { path: '/t/:tenantId/servers/:serverId/metrics', route: '/t/ten_1/servers/srv-1/metrics' });

    expect(await screen.findByRole('heading', { level: 1, name: 'Survival: metrics and events' })).toBeInTheDocument();
    expect(await screen.findAllByTestId('chart')).toHaveLength(4);
    expect(screen.getByText('One point every 5 minutes (2 points).')).toBeInTheDocument();
    const asked = calls.find((c) => c.path.endsWith('/metrics'))!.init.params as { path: unknown; query: Record<string, string> };
    expect(asked.path).toEqual({ tenant_id: 'ten_1', server_id: 'srv-1' });
    expect(asked.query.resolution).toBe('auto');
    expect(Number(asked.query.to) - Number(asked.query.from)).toBe(86_400);
    // 3000 bytes in a 5-minute interval is 10 bytes a second
    expect(screen.getByRole('img', { name: /^Network: Received latest 10 bytes\/s/ })).toBeInTheDocument();
  });

  it("lists the server's events newest first with what they mean, and pages to older ones", async () => {
    const user = userEvent.setup();
    renderWithApp(<MetricsPage />, { path: '/t/:tenantId/servers/:serverId/metrics', route: '/t/ten_1/servers/srv-1/metrics' });

    const events = await screen.findByRole('region', { name: 'Events' });
    const items = await within(events).findAllByRole('listitem');
    expect(items[0]).toHaveTextContent('The server is in a crash loop');
    expect(items[0]).toHaveTextContent('It crashed 3 times within 10 minutes.');
    expect(items[1]).toHaveTextContent('The server probably ran out of memory');
    expect(items[1]).toHaveTextContent('99.6 %');
    await user.click(within(events).getByRole('button', { name: 'Show older events' }));
    expect(await within(events).findByText('The server crashed')).toBeInTheDocument();
    expect(within(events).getAllByRole('listitem')).toHaveLength(3);
    expect(within(events).queryByRole('button', { name: 'Show older events' })).toBeNull();
  });

  it('downloads the CSV the API makes for the same period', async () => {
    const user = userEvent.setup();
    renderWithApp(<MetricsPage />, { path: '/t/:tenantId/servers/:serverId/metrics', route: '/t/ten_1/servers/srv-1/metrics' });
    const created: Blob[] = [];
    URL.createObjectURL = vi.fn((blob: Blob) => {
      created.push(blob);
      return 'blob:x';
    });
    URL.revokeObjectURL = vi.fn();

    await user.click(await screen.findByRole('button', { name: 'Download CSV' }));

    expect(await screen.findByText('The CSV has been downloaded.')).toBeInTheDocument();
    const asked = calls.filter((c) => c.path.endsWith('/metrics')).at(-1)!.init as { params: { query: Record<string, string> }; parseAs: string };
    expect(asked.params.query.format).toBe('csv');
    expect(asked.parseAs).toBe('text');
    expect(await created[0]!.text()).toBe('t,cpu_percent\r\n1764900000,12.5\r\n');
  });
});
