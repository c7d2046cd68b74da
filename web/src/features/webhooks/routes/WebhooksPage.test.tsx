import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import webhooks from '@/locales/en/webhooks.json';
import errors from '@/locales/en/errors.json';
import { setSession } from '@/lib/session';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { WebhooksPage } from './WebhooksPage';
import { WebhookPage } from './WebhookPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const BASE = '/v1/tenants/{tenant_id}/webhooks';
const TYPES = ['server.created', 'backup.completed', 'backup.failed', 'payment.failed'];

function hook(over: Record<string, unknown> = {}) {
  return {
    id: 'wh_1', url: 'https://hooks.example.com/in', kind: 'json', events: ['backup.failed'], enabled: true, description: '',
    secret_hint: 'abcd', created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z', failing_since: null,
    disabled_reason: null, ...over,
  };
}

function list(items: unknown[]) {
  answer('GET', BASE, { body: { items, next_cursor: null, event_types: TYPES, limit: 10 } });
}

beforeEach(() => {
  resetApi();
  setSession('access-token', 900);
});

describe('WebhooksPage', () => {
  it('creates a webhook with the failure events preselected and shows its secret once', async () => {
    list([]);
    answer('POST', BASE, { status: 201, body: { ...hook(), secret: 'whsec_the-one-time-secret' } });
    renderWithApp(<WebhooksPage />, { path: '/t/:tenantId/webhooks', route: '/t/tn_a/webhooks' });
    const form = within((await screen.findByRole('heading', { name: webhooks.form.createTitle })).closest('form') as HTMLFormElement);
    await userEvent.type(form.getByLabelText(webhooks.form.url, { exact: false }), 'https://hooks.example.com/in');
    await userEvent.click(form.getByRole('button', { name: webhooks.form.create }));
    await waitFor(() =>
      expect(calls.find((c) => c.method === 'POST')?.init.body).toEqual({
        url: 'https://hooks.example.com/in', events: ['backup.failed', 'payment.failed'], enabled: true, description: null,
      }),
    );
    expect(await screen.findByTestId('webhook-secret')).toHaveTextContent('whsec_the-one-time-secret');
    await userEvent.click(screen.getByRole('button', { name: webhooks.secret.done }));
    expect(screen.queryByTestId('webhook-secret')).toBeNull();
  });

  it('puts a refused address next to the URL field, with its reason', async () => {
    list([]);
    answer('POST', BASE, {
      status: 400,
      body: { error: { code: 'WEBHOOK_URL_REFUSED', message: 'no', details: { field: 'url', reason: 'private' } } },
    });
    renderWithApp(<WebhooksPage />, { path: '/t/:tenantId/webhooks', route: '/t/tn_a/webhooks' });
    const form = within((await screen.findByRole('heading', { name: webhooks.form.createTitle })).closest('form') as HTMLFormElement);
    await userEvent.type(form.getByLabelText(webhooks.form.url, { exact: false }), 'https://10.0.0.1/x');
    await userEvent.click(form.getByRole('button', { name: webhooks.form.create }));
    expect(await screen.findByText(errors.reasons.WEBHOOK_URL_REFUSED.private)).toBeInTheDocument();
  });

  it('sends a test from the list and says it is on its way', async () => {
    list([hook({ kind: 'discord', url: 'https://discord.com/api/webhooks/1/…abcd' })]);
    answer('POST', `${BASE}/{webhook_id}/test`, { status: 202, body: { delivery: { id: 'whd_1', event_id: 'evt_test_1', status: 'pending' } } });
    renderWithApp(<WebhooksPage />, { path: '/t/:tenantId/webhooks', route: '/t/tn_a/webhooks' });
    expect(await screen.findByText(webhooks.discord)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: /Send test to/ }));
    expect(await screen.findByText(webhooks.test.queued)).toBeInTheDocument();
  });
});

describe('WebhookPage', () => {
  it('shows each attempt of the delivery log with its answer and the next retry', async () => {
    list([hook()]);
    answer('GET', `${BASE}/{webhook_id}`, { body: hook({ failing_since: '2026-12-02T00:00:00Z' }) });
    answer('GET', `${BASE}/{webhook_id}/deliveries`, {
      body: {
        items: [
          { delivery_id: 'whd_1', event_id: 'evt_1', event_type: 'backup.failed', attempt: 2, at: '2026-12-02T00:01:00Z', outcome: 'retrying',
            status_code: 503, duration_ms: 41, error: null, response_excerpt: 'busy', next_attempt_at: '2026-12-02T00:03:00Z' },
          { delivery_id: 'whd_2', event_id: 'evt_2', event_type: 'backup.failed', attempt: 1, at: '2026-12-02T00:00:00Z', outcome: 'failed',
            status_code: null, duration_ms: 0, error: 'refused:private', response_excerpt: '', next_attempt_at: null },
        ],
        next_cursor: null,
      },
    });
    renderWithApp(<WebhookPage />, { path: '/t/:tenantId/webhooks/:webhookId', route: '/t/tn_a/webhooks/wh_1' });
    const table = within(await screen.findByRole('table', { name: webhooks.log.title }));
    expect(table.getByText(webhooks.log.outcomes.retrying)).toBeInTheDocument();
    expect(table.getByText('503')).toBeInTheDocument();
    expect(table.getByText(webhooks.log.errors.refused)).toBeInTheDocument();
    expect(table.getByText(/Next attempt/)).toBeInTheDocument();
    expect(screen.getByText(/Failing since/)).toBeInTheDocument();
    // Only the delivery that ended may be sent again
    answer('POST', `${BASE}/{webhook_id}/deliveries/{delivery_id}/redeliver`, {
      status: 202, body: { delivery: { id: 'whd_2', event_id: 'evt_2', status: 'pending' } },
    });
    expect(table.queryByRole('button', { name: 'Send again: evt_1' })).toBeNull();
    await userEvent.click(table.getByRole('button', { name: 'Send again: evt_2' }));
    await waitFor(() =>
      expect(calls.find((c) => c.method === 'POST')?.init.params).toEqual({
        path: { tenant_id: 'tn_a', webhook_id: 'wh_1', delivery_id: 'whd_2' },
      }),
    );
    expect(await screen.findByText(webhooks.test.queuedHere)).toBeInTheDocument();
  });
});
