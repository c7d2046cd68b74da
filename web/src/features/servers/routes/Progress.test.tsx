import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import errors from '@/locales/en/errors.json';
import servers from '@/locales/en/servers.json';
import { Progress } from './Progress';

function reply(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const SERVER = {
  id: 's1', uuid: 's1', short_id: 's1', name: 'alpha', status: 'offline', suspended: false, blueprint_id: 'bp', description: '',
  docker_image: 'img', node_id: 'n', created_at: '', updated_at: '', allocation: { ip: '127.0.0.1', port: 25565 },
  additional_allocations: [], feature_limits: {}, limits: { memory_mb: 256, disk_mb: 1024, cpu_percent: 0, io_weight: 500, oom_disabled: true, swap_mb: 0 },
};

function renderWith(operation: unknown) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname;
      if (path.includes('/operations/')) return reply(operation);
      if (path.endsWith('/resources')) return reply({ server_id: 's1', state: 'offline', status: 'offline', is_suspended: false, utilization: {} });
      return reply(SERVER);
    }),
  );
  const router = createMemoryRouter([{ path: '/t/:tenantId/servers/:serverId/progress/:operationId', Component: Progress }], {
    initialEntries: ['/t/tn/servers/s1/progress/op1'],
  });
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('Progress', () => {
  it('names the failed step and says why in a sentence, with the way forward', async () => {
    renderWith({
      id: 'op1', type: 'provision_server', status: 'failed', created_at: '', updated_at: '',
      steps: [
        { name: 'reserve', status: 'failed', detail: null },
        { name: 'persist', status: 'pending' },
      ],
      error: { code: 'NO_CAPACITY', message: 'no node has 4096 MiB free' },
    });
    expect(await screen.findByText(/failed at the step “Reserve a place on a node”/)).toBeInTheDocument();
    expect(screen.getByText(new RegExp(errors.codes.NO_CAPACITY.slice(0, 40)))).toBeInTheDocument();
    expect(screen.getByText(servers.progress.whatNow)).toBeInTheDocument();
    expect(screen.getByRole('link', { name: servers.progress.tryAgain })).toHaveAttribute('href', '/t/tn/servers/new');
  });

  it('lists every step with its state while the work goes on', async () => {
    renderWith({
      id: 'op1', type: 'provision_server', status: 'running', created_at: '', updated_at: '',
      steps: [
        { name: 'reserve', status: 'succeeded' },
        { name: 'install', status: 'running' },
      ],
    });
    const list = await screen.findByRole('list', { name: servers.progress.steps });
    expect(list).toHaveTextContent(`${servers.steps.reserve} — ${servers.status.succeeded}`);
    expect(list).toHaveTextContent(`${servers.steps.install} — ${servers.status.running}`);
    expect(screen.getByText(servers.progress.working)).toBeInTheDocument();
  });
});
