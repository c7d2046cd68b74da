import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { setSession } from '@/lib/session';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { ApplicationKeysPage } from './ApplicationKeysPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const NONE = { users: 'none', nodes: 'none', allocations: 'none', locations: 'none', servers: 'none', nests: 'none', eggs: 'none' };

const key = (over: Record<string, unknown> = {}) => ({
  id: 'key_whmcs', name: 'WHMCS', prefix: 'ptla_usr_root.key_whmcs', hint: 'Qx9a',
  permissions: { ...NONE, users: 'read-write', servers: 'read-write', nodes: 'read' },
  allowed_ips: [], created_at: '2026-12-01T10:00:00Z', revoked_at: null, last_used_at: null, last_used_ip: null, ...over,
});

const render = () => renderWithApp(<ApplicationKeysPage />, { path: '/admin/application-keys', route: '/admin/application-keys' });

beforeEach(() => {
  resetApi();
  setSession('access-token', 900);
  answer('GET', '/v1/admin/application-keys', { body: { items: [key()] } });
});

describe('ApplicationKeysPage', () => {
  it('lists a key with its public part and only the rights it holds, never its secret', async () => {
    render();

    const row = (await screen.findByRole('rowheader', { name: 'WHMCS' })).closest('tr') as HTMLElement;
    expect(row).toHaveTextContent('ptla_usr_root.key_whmcs.…Qx9a');
    expect(row).toHaveTextContent('Users: Read and write, Nodes: Read, Servers: Read and write');
    expect(row).not.toHaveTextContent('Eggs');
    expect(within(row).getByText('Never')).toBeInTheDocument();
  });

  it('creates a key with the seven rights chosen and shows the ptla_ key once', async () => {
    answer('POST', '/v1/admin/application-keys', {
      status: 201,
      body: { ...key({ id: 'key_new', name: 'Paymenter', prefix: 'ptla_usr_root.key_new' }), key: 'ptla_usr_root.key_new.s3cret' },
    });
    render();

    fireEvent.click(await screen.findByText('Create an application key'));
    const submit = screen.getByRole('button', { name: 'Create key' });
    fireEvent.change(screen.getByLabelText('Name', { exact: false }), { target: { value: ' Paymenter ' } });
    expect(submit).toBeDisabled(); // no right chosen yet
    fireEvent.change(screen.getByLabelText('Servers'), { target: { value: 'read-write' } });
    fireEvent.change(screen.getByLabelText('Eggs'), { target: { value: 'read' } });
    fireEvent.change(screen.getByLabelText('Only from these addresses (optional)', { exact: false }), { target: { value: '203.0.113.0/24' } });
    fireEvent.click(submit);

    expect(await screen.findByTestId('new-application-key')).toHaveTextContent('ptla_usr_root.key_new.s3cret');
    expect(calls.find((c) => c.method === 'POST')?.init.body).toEqual({
      name: 'Paymenter',
      permissions: { ...NONE, servers: 'read-write', eggs: 'read' },
      allowed_ips: ['203.0.113.0/24'],
    });
    // Hidden when dismissed, and not shown again
    fireEvent.click(screen.getByRole('button', { name: 'Hide the key' }));
    expect(screen.queryByTestId('new-application-key')).toBeNull();
    expect(screen.getByText('The key is hidden. Create a new one if you did not copy it.')).toBeInTheDocument();
  });

  it('shows the API refusal next to the right it names', async () => {
    answer('POST', '/v1/admin/application-keys', {
      status: 400,
      body: { error: { code: 'VALIDATION_ERROR', message: 'x', details: { fields: [{ field: 'body.permissions.users', message: 'is not a right' }] } } },
    });
    render();

    fireEvent.click(await screen.findByText('Create an application key'));
    fireEvent.change(screen.getByLabelText('Name', { exact: false }), { target: { value: 'Bot' } });
    fireEvent.change(screen.getByLabelText('Users'), { target: { value: 'read' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));

    await waitFor(() => expect(screen.getByLabelText('Users')).toHaveAccessibleDescription(/is not a right/));
  });

  it('revokes a key only after the confirmation that names it', async () => {
    answer('DELETE', '/v1/admin/application-keys/{key_id}', { status: 204, body: null });
    render();

    fireEvent.click(await screen.findByRole('button', { name: 'Revoke WHMCS' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Revoke the application key WHMCS?' });
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Revoke' }));

    expect(await screen.findByText('The application key WHMCS was revoked.')).toBeInTheDocument();
    expect(calls.find((c) => c.method === 'DELETE')?.init).toMatchObject({ params: { path: { key_id: 'key_whmcs' } } });
  });

  it('shows a revoked key as revoked, with nothing to revoke', async () => {
    answer('GET', '/v1/admin/application-keys', { body: { items: [key({ revoked_at: '2026-12-02T10:00:00Z' })] } });
    render();

    const row = (await screen.findByRole('rowheader', { name: 'WHMCS' })).closest('tr') as HTMLElement;
    expect(row).toHaveTextContent('Revoked');
    expect(within(row).queryByRole('button', { name: 'Revoke WHMCS' })).toBeNull();
  });
});
