import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { ServerPage } from './ServerPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const server = {
  uuid: '00000000-0000-4000-8000-000000000001', name: 'survival', status: 'deleting', status_reason: 'The node did not answer.',
  tenant: { id: 'tn_a', name: 'Acme' }, node: { id: 'nd_1', name: 'Falkenstein' }, memory_mb: 1024, disk_mb: 4096,
  allocation: '10.0.0.5:25565', allocations: ['10.0.0.5:25565'], blueprint_id: 'bp1', docker_image: 'img', cpu_percent: 0,
  description: '', installed_at: null, created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:00:00Z',
};

beforeEach(() => {
  resetApi();
  answer('GET', '/v1/admin/servers/{server_id}', { body: server });
});

describe('ServerPage', () => {
  it('force-deletes only after the server name is typed, then links the operation', async () => {
    answer('POST', '/v1/admin/servers/{server_id}/force-delete', {
      status: 202,
      body: { operation: { id: 'op_9', tenant_id: 'tn_a', type: 'delete_server', status: 'pending', steps: [], created_at: 'x', updated_at: 'x' } },
    });
    renderWithApp(<ServerPage />, { path: '/admin/servers/:serverId', route: `/admin/servers/${server.uuid}` });
    expect(await screen.findByText('Why: The node did not answer.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Force delete server' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Force delete survival?' });
    const confirm = within(dialog).getByRole('button', { name: 'Force delete server' });
    expect(confirm).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText('Type survival to confirm'), 'survival');
    await userEvent.click(confirm);
    await waitFor(() => expect(calls.some((c) => c.path === '/v1/admin/servers/{server_id}/force-delete')).toBe(true));
    expect(await screen.findByRole('link', { name: 'Follow the operation' })).toHaveAttribute('href', '/admin/operations/op_9');
  });
});
