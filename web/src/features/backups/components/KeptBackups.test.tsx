import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { KeptBackups } from './KeptBackups';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const LIST = '/v1/tenants/{tenant_id}/backups';
const ONE = `${LIST}/{backup_id}`;
const kept = (over: Record<string, unknown> = {}) => ({
  id: 'b1', uuid: 'b1', server_id: 's-gone', name: 'before-delete', status: 'completed', size_bytes: 5 * 1024 * 1024,
  checksum: 'sha1:x', locked: true, ignored: [], created_at: '2026-12-01T10:00:00Z', completed_at: '2026-12-01T10:01:00Z',
  error: null, orphaned_at: '2026-12-02T09:00:00Z',
  ...over,
});

beforeEach(() => {
  resetApi();
  answer('GET', LIST, { body: { items: [kept()], next_cursor: null } });
});

describe('KeptBackups', () => {
  it('lists the backups of deleted servers, asking only for the orphaned ones', async () => {
    renderWithApp(<KeptBackups tenantId="t1" />);
    const row = await screen.findByRole('row', { name: /before-delete/ });
    expect(within(row).getByText('5 MB')).toBeInTheDocument();
    expect(within(row).getByText('Locked')).toBeInTheDocument();
    const listed = calls.find((c) => c.method === 'GET' && c.path === LIST);
    expect(listed?.init.params).toMatchObject({ query: { orphaned: true } });
  });

  it('keeps a locked one from deletion until it is unlocked', async () => {
    answer('POST', `${ONE}/unlock`, { body: kept({ locked: false }) });
    renderWithApp(<KeptBackups tenantId="t1" />);
    const remove = await screen.findByRole('button', { name: 'Delete before-delete' });
    expect(remove).toBeDisabled();
    await userEvent.click(screen.getByRole('button', { name: 'Unlock before-delete' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === `${ONE}/unlock`)).toBe(true));
  });

  it('deletes an unlocked one after confirming', async () => {
    answer('GET', LIST, { body: { items: [kept({ locked: false })], next_cursor: null } });
    answer('DELETE', ONE, { status: 202, body: { backup: kept({ locked: false, status: 'deleting' }), operation: { id: 'op1', type: 'delete_backup', status: 'pending', target: 'b1', steps: [], error: null, created_at: 'x', updated_at: 'x' } } });
    renderWithApp(<KeptBackups tenantId="t1" />);
    await userEvent.click(await screen.findByRole('button', { name: 'Delete before-delete' }));
    const dialog = await screen.findByRole('alertdialog');
    await userEvent.click(within(dialog).getByRole('button', { name: /Delete/ }));
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.path === ONE)).toBe(true));
  });

  it('says so when none are kept', async () => {
    answer('GET', LIST, { body: { items: [], next_cursor: null } });
    renderWithApp(<KeptBackups tenantId="t1" />);
    expect(await screen.findByText('No backups of deleted servers are kept.')).toBeInTheDocument();
  });
});
