import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { setSession } from '@/lib/session';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { PlansPage } from './PlansPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const plan = (over: Record<string, unknown> = {}) => ({
  id: 'pro', name: 'Pro', price_id: 'price_pro', metered: [], active: true, amount_cents: 1500, currency: 'usd', interval: 'month', grace_days: 7,
  quotas: { servers: 5, memory_mb: 16384, disk_mb: 102400, backup_bytes: -1, backups_per_server: 5 },
  created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:00:00Z', ...over,
});

beforeEach(() => {
  resetApi();
  setSession('access-token', 900);
  answer('GET', '/v1/admin/plans', { body: { items: [plan()], next_cursor: null } });
});

describe('PlansPage', () => {
  it('lists a plan with its price and quotas, unlimited named as such', async () => {
    renderWithApp(<PlansPage />, { path: '/admin/plans', route: '/admin/plans' });

    const row = (await screen.findByRole('rowheader', { name: /Pro/ })).closest('tr') as HTMLElement;
    expect(row).toHaveTextContent('$15.00 a month');
    expect(row).toHaveTextContent('Backups: unlimited, 5 per server');
    expect(within(row).getByText('Offered')).toBeInTheDocument();
  });

  it('archives a plan only after the confirmation, with active false', async () => {
    answer('PATCH', '/v1/admin/plans/{plan_id}', { body: plan({ active: false }) });
    renderWithApp(<PlansPage />, { path: '/admin/plans', route: '/admin/plans' });

    fireEvent.click(await screen.findByRole('button', { name: 'Archive the plan Pro' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Archive Pro?' });
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Archive' }));

    expect(await screen.findByText('The plan Pro was archived.')).toBeInTheDocument();
    const sent = calls.find((c) => c.method === 'PATCH');
    expect(sent?.init).toMatchObject({ params: { path: { plan_id: 'pro' } }, body: { active: false } });
  });

  it('creates a plan from the form and shows the API refusal next to the field it names', async () => {
    answer('POST', '/v1/admin/plans', {
      status: 400,
      body: { error: { code: 'VALIDATION_ERROR', message: 'x', details: { fields: [{ field: 'price_id', message: 'a paid plan needs its flat-fee price id' }] } } },
    });
    renderWithApp(<PlansPage />, { path: '/admin/plans', route: '/admin/plans' });

    fireEvent.click(await screen.findByRole('button', { name: 'Create a plan' }));
    fireEvent.change(screen.getByLabelText('Plan ID', { exact: false }), { target: { value: 'basic' } });
    fireEvent.change(screen.getByRole('textbox', { name: 'Name' }), { target: { value: 'Basic' } });
    fireEvent.change(screen.getByLabelText('Price as shown', { exact: false }), { target: { value: '4,50' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create plan' }));

    await waitFor(() =>
      expect(screen.getByLabelText('Stripe price ID of the flat fee', { exact: false })).toHaveAccessibleDescription(/needs its flat-fee price id/),
    );
    expect(calls.find((c) => c.method === 'POST')?.init.body).toMatchObject({ id: 'basic', name: 'Basic', amount_cents: 450, price_id: null });
  });
});
