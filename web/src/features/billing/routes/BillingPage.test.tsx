import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { BillingPage } from './BillingPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const quotas = { servers: 2, memory_mb: 4096, disk_mb: 20480, backup_bytes: 5 * 1024 ** 3, backups_per_server: 2 };
const summary = (over: Record<string, unknown> = {}) => ({
  plan: { id: 'free', name: 'Free' }, status: 'none', billing_state: 'active', current_period_end: null, cancel_at_period_end: false,
  past_due_since: null, grace_ends_at: null, quotas, usage: { since: 0, metrics: {}, source: 'ledger' }, credit_balance_cents: 0, ...over,
});

function show(route = '/t/t1/billing') {
  return renderWithApp(<BillingPage />, { path: '/t/:tenantId/billing', route });
}

beforeEach(() => {
  resetApi();
  answer('GET', '/v1/plans', {
    body: {
      items: [
        { id: 'free', name: 'Free', free: true, amount_cents: 0, currency: 'usd', interval: 'month', metered: [], quotas },
        { id: 'pro', name: 'Pro', free: false, amount_cents: 1500, currency: 'eur', interval: 'month', metered: ['ram_gb_hours'], quotas: { ...quotas, servers: 5 } },
      ],
      billing_enabled: true,
    },
  });
  answer('GET', '/v1/tenants/{tenant_id}/billing/invoices', { body: { items: [], next_cursor: null } });
  answer('GET', '/v1/tenants/{tenant_id}/billing/credits', { body: { balance_cents: 0, items: [], next_cursor: null } });
});

describe('BillingPage', () => {
  it('explains a suspension and the way out, with the portal one click away', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/billing', { body: summary({ plan: { id: 'pro', name: 'Pro' }, status: 'unpaid', billing_state: 'suspended' }) });
    answer('POST', '/v1/tenants/{tenant_id}/billing/portal', { status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'x', details: {} }, request_id: 'r' } });
    show();
    expect(await screen.findByRole('heading', { name: 'Your servers are suspended' })).toBeInTheDocument();
    expect(screen.getByText(/update your payment method or pay the open invoice/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Update payment method' }));
    await waitFor(() => expect(calls.find((c) => c.path.endsWith('/portal'))?.init.body).toEqual({ flow: 'payment_method_update' }));
  });

  it('says when the data of a canceled tenant is deleted', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/billing', {
      body: summary({ status: 'canceled', billing_state: 'suspended', deletion_due_at: 1_800_000_000 }),
    });
    show();
    expect(await screen.findByText(/are deleted for good, unless you subscribe again/)).toBeInTheDocument();
    expect(screen.getByText(/2027/)).toBeInTheDocument();
  });

  it('warns before the grace period ends', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/billing', { body: summary({ status: 'past_due', past_due_since: 1_800_000_000, grace_ends_at: 1_800_604_800 }) });
    show();
    expect(await screen.findByText(/The last payment failed. Update your payment method before/)).toBeInTheDocument();
  });

  it('offers Checkout for a paid plan, priced in its currency, and sends only the plan id', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/billing', { body: summary() });
    answer('POST', '/v1/tenants/{tenant_id}/billing/checkout', { status: 409, body: { error: { code: 'CONFLICT', message: 'x', details: {} }, request_id: 'r' } });
    show();
    expect(await screen.findByText('€15.00 per month')).toBeInTheDocument();
    expect(screen.getByTestId('current-plan')).toHaveTextContent('Free');
    await userEvent.click(screen.getByRole('button', { name: 'Choose this plan: Pro' }));
    await waitFor(() => expect(calls.find((c) => c.path.endsWith('/checkout'))?.init.body).toEqual({ plan_id: 'pro' }));
    expect(await screen.findByText(/conflicts with the current state/)).toBeInTheDocument();
  });

  it('on the return from Checkout waits for the webhook, then says the plan changed', async () => {
    let calls_ = 0;
    answer('GET', '/v1/tenants/{tenant_id}/billing', () => {
      calls_ += 1;
      return { body: calls_ < 2 ? summary() : summary({ plan: { id: 'pro', name: 'Pro' }, status: 'active' }) };
    });
    show('/t/t1/billing?checkout=success&session_id=cs_1');
    expect(await screen.findByText(/The payment is being confirmed/)).toBeInTheDocument();
    expect(await screen.findByText('Thank you. You are now on the Pro plan.', undefined, { timeout: 5000 })).toBeInTheDocument();
  });

  it('shows the credit of each currency on its own, never summed, and buys in the credit currency', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/billing', {
      body: summary({ credit_balance_cents: 1200, credit_currency: 'eur', credit_balances: { usd: 300, eur: 1200 } }),
    });
    answer('GET', '/v1/tenants/{tenant_id}/billing/credits', {
      body: { balance_cents: 1200, currency: 'eur', balances: { usd: 300, eur: 1200 }, items: [], next_cursor: null },
    });
    answer('POST', '/v1/tenants/{tenant_id}/billing/credits/checkout', { status: 409, body: { error: { code: 'CONFLICT', message: 'x', details: {} }, request_id: 'r' } });
    show();
    expect(await screen.findByTestId('credit-balance')).toHaveTextContent('€12.00, $3.00');
    expect(await screen.findByText(/Balance: €12.00, \$3.00\./)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Buy credit' }));
    await waitFor(() => expect(calls.find((c) => c.path.endsWith('/credits/checkout'))?.init.body).toEqual({ amount_cents: 1000, currency: 'eur' }));
  });

  it('shows a zero balance in US dollars before the first credit', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/billing', { body: summary() });
    show();
    expect(await screen.findByTestId('credit-balance')).toHaveTextContent('$0.00');
  });
});
