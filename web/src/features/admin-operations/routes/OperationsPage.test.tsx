import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { OperationsPage } from './OperationsPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const failed = {
  id: 'op_1', tenant_id: 'tn_a', type: 'provision_server', status: 'failed', attempt: 1, target: null, created_at: '2026-12-01T10:00:00Z',
  updated_at: '2026-12-01T10:01:00Z', steps: [{ name: 'install', status: 'failed' }], error: { code: 'INSTALL_FAILED', message: 'script exited 3' },
  retryable: true, retry_refusal: null,
};

const queries = () => calls.filter((c) => c.path === '/v1/admin/operations').map((c) => (c.init.params as { query: Record<string, unknown> }).query);

beforeEach(() => {
  resetApi();
  answer('GET', '/v1/admin/operations', { body: { items: [failed], next_cursor: null } });
});

describe('OperationsPage', () => {
  it('starts from the filters in the address (the overview links to the failed ones)', async () => {
    renderWithApp(<OperationsPage />, { path: '/admin/operations', route: '/admin/operations?status=failed' });
    expect(await screen.findByRole('link', { name: 'Provision server' })).toHaveAttribute('href', '/admin/operations/op_1');
    expect(screen.getByLabelText('Status')).toHaveValue('failed');
    expect(queries()[0]).toMatchObject({ status: 'failed' });
    expect(screen.getByRole('cell', { name: 'Install' })).toBeInTheDocument();
    expect(screen.getByText('Installing the server failed.')).toBeInTheDocument(); // the code's sentence, not the workflow's English message
  });

  it('applies a type filter and clears it', async () => {
    renderWithApp(<OperationsPage />, { path: '/admin/operations', route: '/admin/operations' });
    await screen.findByRole('link', { name: 'Provision server' });
    await userEvent.type(screen.getByLabelText('Type'), 'provision_server');
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(queries().at(-1)).toMatchObject({ type: 'provision_server' }));
    await userEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(queries().at(-1)?.type).toBeUndefined());
    expect(screen.getByLabelText('Type')).toHaveValue('');
  });
});
