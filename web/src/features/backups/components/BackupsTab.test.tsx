import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { BackupsTab } from './BackupsTab';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const LIST = '/v1/tenants/{tenant_id}/servers/{server_id}/backups';
const ONE = `${LIST}/{backup_id}`;
const backup = (over: Record<string, unknown> = {}) => ({
  id: 'b1', uuid: 'b1', server_id: 's1', name: 'nightly', status: 'completed', size_bytes: 5 * 1024 * 1024,
  checksum: 'sha1:x', locked: false, ignored: [], created_at: '2026-12-01T10:00:00Z', completed_at: '2026-12-01T10:01:00Z', error: null,
  ...over,
});
const operation = (type: string, status: string, steps: { name: string; status: string; detail?: string }[], error: unknown = null) => ({
  id: 'op1', type, status, target: 'b1', steps, error, created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:00:00Z',
});

function show() {
  return renderWithApp(<BackupsTab tenantId="t1" serverId="s1" serverName="survival" />);
}

beforeEach(() => {
  resetApi();
  answer('GET', '/v1/tenants/{tenant_id}/backup-settings', { body: { rotate: false, usage_bytes: 1024 ** 3, quota_bytes: 5 * 1024 ** 3, backups_per_server: 3 } });
  answer('GET', LIST, { body: { items: [backup()], next_cursor: null } });
});

describe('BackupsTab', () => {
  it('shows the quota and each backup with its size and state', async () => {
    show();
    expect(await screen.findByText('Backup storage: 1 GB of 5 GB used')).toBeInTheDocument();
    expect(screen.getByText('1 of 3 backups on this server')).toBeInTheDocument();
    const row = screen.getByRole('row', { name: /nightly/ });
    expect(within(row).getByText('5 MB')).toBeInTheDocument();
    expect(within(row).getByText('Completed')).toBeInTheDocument();
  });

  it('says so when there are no backups yet', async () => {
    answer('GET', LIST, { body: { items: [], next_cursor: null } });
    show();
    expect(await screen.findByText(/No backups yet/)).toBeInTheDocument();
  });

  it('shows the error sentence and a retry when the list cannot be loaded', async () => {
    answer('GET', LIST, { status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'x', details: {} }, request_id: 'r' } });
    show();
    expect(await screen.findByText('The panel is temporarily unavailable. Try again in a moment.')).toBeInTheDocument();
    expect(screen.getAllByRole('button', { name: 'Try again' }).length).toBeGreaterThan(0);
  });

  it('explains the truncate choice before a restore and sends it', async () => {
    answer('POST', `${ONE}/restore`, (init) => ({
      status: 202,
      body: { backup: backup({ status: 'restoring' }), operation: operation('restore_backup', 'running', [{ name: 'request_restore', status: 'running' }]), sent: init },
    }));
    answer('GET', '/v1/tenants/{tenant_id}/operations/{op_id}', {
      body: operation('restore_backup', 'running', [{ name: 'request_restore', status: 'succeeded' }, { name: 'restore', status: 'running' }]),
    });
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'Restore nightly' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(within(dialog).getByText('Off: files that are not in the backup stay on the server.')).toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole('checkbox', { name: "Delete all of the server's files first" }));
    expect(within(dialog).getByText(/Files that are not in the backup are lost/)).toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Restore' }));
    await waitFor(() => expect(calls.find((c) => c.path.endsWith('/restore'))?.init.body).toEqual({ truncate: true }));
    expect(await screen.findByRole('heading', { name: 'Progress of the restore' })).toBeInTheDocument();
    expect(await screen.findByText('Restore the files: running')).toBeInTheDocument();
  });

  it('names the failed step and the reason of a failed backup', async () => {
    answer('POST', LIST, {
      status: 202,
      body: { backup: backup({ status: 'pending' }), operation: operation('backup_server', 'pending', []) },
    });
    answer('GET', '/v1/tenants/{tenant_id}/operations/{op_id}', {
      body: operation('backup_server', 'failed', [{ name: 'request_backup', status: 'succeeded' }, { name: 'upload', status: 'failed', detail: 'node went away' }], {
        code: 'BACKUP_FAILED',
        message: 'node went away',
      }),
    });
    show();
    await userEvent.type(await screen.findByLabelText('Name (optional)'), 'before-update');
    await userEvent.click(screen.getByRole('button', { name: 'Back up now' }));
    await waitFor(() => expect(calls.find((c) => c.method === 'POST' && c.path === LIST)?.init.body).toEqual({ name: 'before-update', ignored: [] }));
    const alert = await screen.findByText('The step “Upload the archive” failed.');
    expect(alert.closest('[role="alert"]')).toHaveTextContent('node went away');
  });

  it('cannot delete a locked backup and says why', async () => {
    answer('GET', LIST, { body: { items: [backup({ locked: true })], next_cursor: null } });
    show();
    const remove = await screen.findByRole('button', { name: 'Delete nightly' });
    expect(remove).toBeDisabled();
    expect(remove).toHaveAttribute('title', 'Unlock the backup to delete it.');
    expect(screen.getByRole('button', { name: 'Unlock nightly' })).toBeEnabled();
  });

  it('maps a quota refusal to its sentence', async () => {
    answer('POST', LIST, { status: 403, body: { error: { code: 'QUOTA_EXCEEDED', message: 'x', details: { quota: 'backups_per_server' } }, request_id: 'r' } });
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'Back up now' }));
    expect(await screen.findByText(/beyond your plan's limits/)).toBeInTheDocument();
  });

  it("disables what the caller's role does not allow, and says why", async () => {
    answer('GET', '/v1/tenants', { body: { items: [{ id: 't1', name: 'T', status: 'active', require_2fa: false, created_at: 'x', role: 'viewer' }], next_cursor: null } });
    answer('GET', '/v1/tenants/{tenant_id}/roles', {
      body: { items: [{ id: 'viewer', name: 'viewer', permissions: ['backups.read', 'servers.read'], builtin: true }], next_cursor: null },
    });
    show();
    await waitFor(() => expect(screen.getByRole('button', { name: 'Back up now' })).toBeDisabled());
    expect(screen.getByText(/Your role does not allow this \(backups\.create\)/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Restore nightly' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Download nightly' })).toBeDisabled();
  });
});
