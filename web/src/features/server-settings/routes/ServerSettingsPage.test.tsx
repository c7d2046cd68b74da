import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { maxFor } from '../api/settings';
import { ServerSettingsPage } from './ServerSettingsPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const server = {
  id: 's1', uuid: 's1', short_id: 's1', name: 'survival', description: '', status: 'running', status_reason: null, suspended: false,
  node_id: 'n', blueprint_id: 'bp1', allocation: { ip: '127.0.0.1', port: 25565 }, additional_allocations: [],
  limits: { memory_mb: 1024, disk_mb: 4096, cpu_percent: 100, swap_mb: 0, io_weight: 500, threads: null, oom_disabled: false },
  feature_limits: { backups: 2, allocations: 1 }, docker_image: 'img', created_at: '2026-12-01T10:00:00Z', updated_at: null, installed_at: null,
};
const quota = (used: number, limit: number) => ({ used, limit, unlimited: limit < 0 });

beforeEach(() => {
  resetApi();
  answer('GET', '/v1/tenants/{tenant_id}/servers/{server_id}', { body: server });
  answer('GET', '/v1/tenants/{tenant_id}/usage', {
    body: { plan_id: 'free', servers: quota(1, 2), memory_mb: quota(1024, 4096), disk_mb: quota(4096, 20480), backup_bytes: quota(0, -1), backups_per_server: { limit: 2, unlimited: false } },
  });
  answer('GET', '/v1/tenants/{tenant_id}/blueprints', {
    body: {
      items: [{
        id: 'bp1', name: 'Runner', description: '', author: 'a', features: [], docker_images: {}, default_docker_image: 'img',
        variables: [{ name: 'Message', description: 'The motd', env_variable: 'MOTD', default_value: 'hi', user_viewable: true, user_editable: true, required: false, field_type: 'text', rules: 'string|max:20', rule_list: [] }],
      }],
      next_cursor: null,
    },
  });
});

function show() {
  return renderWithApp(<ServerSettingsPage />, { path: '/t/:tenantId/servers/:serverId/settings', route: '/t/t1/servers/s1/settings' });
}

describe('maxFor', () => {
  it('is what is left of the plan plus what the server holds; nothing when unlimited', () => {
    expect(maxFor(quota(1024, 4096), 1024)).toBe(4096);
    expect(maxFor(quota(3072, 4096), 512)).toBe(1536);
    expect(maxFor(quota(5000, 4096), 1024)).toBe(1024);
    expect(maxFor(quota(0, -1), 1024)).toBeUndefined();
  });
});

describe('ServerSettingsPage', () => {
  it('refuses limits above the plan in the browser, before asking the API', async () => {
    show();
    const memory = await screen.findByLabelText('Memory (MiB)');
    expect(await screen.findByText('Your plan allows up to 4 GB for this server.')).toBeInTheDocument();
    await userEvent.clear(memory);
    await userEvent.type(memory, '8192');
    expect(screen.getByText('This is more than your plan allows: at most 4 GB.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Save limits' }));
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false);
  });

  it('sends only the environment values that changed and shows a field error from the API next to its field', async () => {
    answer('PATCH', '/v1/tenants/{tenant_id}/servers/{server_id}', {
      status: 400,
      body: { error: { code: 'VALIDATION_ERROR', message: 'x', details: { fields: [{ field: 'environment.MOTD', message: 'The MOTD may not be greater than 20 characters.' }] } }, request_id: 'r' },
    });
    show();
    const motd = await screen.findByLabelText('Message');
    await userEvent.type(motd, 'a very long message indeed');
    await userEvent.click(screen.getByRole('button', { name: 'Save variables' }));
    await waitFor(() => expect(calls.find((c) => c.method === 'PATCH')?.init.body).toEqual({ environment: { MOTD: 'a very long message indeed' } }));
    await waitFor(() => expect(motd).toHaveAttribute('aria-invalid', 'true'));
    expect(screen.getByText('The MOTD may not be greater than 20 characters.')).toBeInTheDocument();
  });

  it('checks a variable by its rules in the browser before sending', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/blueprints', {
      body: {
        items: [{
          id: 'bp1', name: 'Runner', description: '', author: 'a', features: [], docker_images: {}, default_docker_image: 'img',
          variables: [{ name: 'Message', description: 'The motd', env_variable: 'MOTD', default_value: 'hi', user_viewable: true, user_editable: true, required: false, field_type: 'text', rules: 'string|max:20', rule_list: [{ name: 'string', args: [] }, { name: 'max', args: ['20'] }] }],
        }],
        next_cursor: null,
      },
    });
    show();
    const motd = await screen.findByLabelText('Message');
    await userEvent.type(motd, 'a very long message indeed');
    expect(motd).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText('Use at most 20 characters.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Save variables' }));
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false);
  });

  it('deletes only after the server name is typed', async () => {
    answer('DELETE', '/v1/tenants/{tenant_id}/servers/{server_id}', { status: 202, body: { operation: { id: 'op', type: 'delete_server', status: 'running', steps: [], created_at: 'x', updated_at: 'x' } } });
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'Delete server' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Delete survival?' });
    const confirm = within(dialog).getByRole('button', { name: 'Delete for good' });
    expect(confirm).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText('Type survival to confirm'), 'survival');
    expect(confirm).toBeEnabled();
    await userEvent.click(confirm);
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE')).toBe(true));
    expect(await screen.findByText('elsewhere')).toBeInTheDocument();
  });

  it('names the server in the reinstall confirmation', async () => {
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'Reinstall server' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Reinstall survival?' });
    expect(within(dialog).getByRole('button', { name: 'Reinstall survival' })).toBeInTheDocument();
  });
});
