import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { OperationPage } from './OperationPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const failed = {
  id: 'op_1', tenant_id: 'tn_a', type: 'provision_server', status: 'failed', attempt: 1, target: '00000000-0000-4000-8000-000000000001',
  created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:01:00Z',
  steps: [
    { name: 'reserve', status: 'compensated' },
    { name: 'create_on_wings', status: 'failed', detail: 'The node did not answer.' },
    { name: 'a_step_added_later', status: 'skipped' },
  ],
  error: { code: 'NODE_UNAVAILABLE', message: 'The node did not answer.' },
  failure: { state: 'CreateOnWings', error: 'WingsUnavailableError', cause: 'connection refused' },
  retryable: true, retry_refusal: null,
};

beforeEach(() => resetApi());

function show() {
  return renderWithApp(<OperationPage />, { path: '/admin/operations/:operationId', route: '/admin/operations/op_1' });
}

describe('OperationPage', () => {
  it('shows the failed step, the execution cause, and retries a retryable operation', async () => {
    answer('GET', '/v1/admin/operations/{op_id}', { body: failed });
    answer('POST', '/v1/admin/operations/{op_id}/retry', { status: 202, body: { ...failed, status: 'pending', attempt: 2, error: null } });
    show();
    expect(await screen.findByRole('heading', { level: 1, name: 'Operation: Provision server' })).toBeInTheDocument();
    expect(screen.getByText('Create on the node')).toBeInTheDocument();
    expect(screen.getByText('a_step_added_later')).toBeInTheDocument(); // a step without a name yet shows as it is
    expect(screen.getByText('CreateOnWings')).toBeInTheDocument();
    expect(screen.getByText('connection refused')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Retry operation' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/v1/admin/operations/{op_id}/retry')).toBe(true));
  });

  it('shows why an operation cannot be retried instead of the button', async () => {
    answer('GET', '/v1/admin/operations/{op_id}', {
      body: { ...failed, type: 'reinstall_server', retryable: false, retry_refusal: 'a reinstall wipes the server; the customer must ask for it again' },
    });
    show();
    expect(await screen.findByText('This operation cannot be retried: a reinstall wipes the server; the customer must ask for it again')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Retry operation' })).not.toBeInTheDocument();
  });
});
