import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { SessionsSection } from './SessionsSection';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const laptop = {
  id: 'rf_laptop',
  created_at: '2026-12-01T10:00:00Z',
  last_used_at: '2026-12-04T09:00:00Z',
  expires_at: '2026-12-31T10:00:00Z',
  ip: '203.0.113.7',
  user_agent: 'Firefox on Linux',
  current: true,
};
const phone = { ...laptop, id: 'rf_phone', ip: '198.51.100.2', user_agent: 'Safari on iPhone', last_used_at: null, current: false };

beforeEach(() => {
  resetApi();
});

describe('SessionsSection', () => {
  it('lists the sessions with this device marked and no sign-out button for it', async () => {
    answer('GET', '/v1/me/sessions', { body: { items: [phone, laptop], next_cursor: null } });
    renderWithApp(<SessionsSection />);

    const mine = (await screen.findByRole('rowheader', { name: /Firefox on Linux/ })).closest('tr')!;
    expect(within(mine).getByText('This device')).toBeInTheDocument();
    expect(within(mine).queryByRole('button')).not.toBeInTheDocument();
    const other = screen.getByRole('rowheader', { name: 'Safari on iPhone' }).closest('tr')!;
    expect(within(other).getByText('198.51.100.2')).toBeInTheDocument();
    expect(within(other).getByText('Not since signing in')).toBeInTheDocument();
    expect(within(other).getByRole('button', { name: 'Sign out Safari on iPhone' })).toBeInTheDocument();
  });

  it('signs another session out after confirming, and lists again', async () => {
    let items = [phone, laptop];
    answer('GET', '/v1/me/sessions', () => ({ body: { items, next_cursor: null } }));
    answer('DELETE', '/v1/me/sessions/{session_id}', () => {
      items = [laptop];
      return { status: 204 };
    });
    renderWithApp(<SessionsSection />);

    await userEvent.click(await screen.findByRole('button', { name: 'Sign out Safari on iPhone' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(within(dialog).getByText(/Safari on iPhone, signed in/)).toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Sign out' }));

    await waitFor(() => expect(calls.find((c) => c.method === 'DELETE')?.init.params).toEqual({ path: { session_id: 'rf_phone' } }));
    expect(await screen.findByText('The session is signed out.')).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole('rowheader', { name: 'Safari on iPhone' })).not.toBeInTheDocument());
  });

  it('shows the empty state', async () => {
    answer('GET', '/v1/me/sessions', { body: { items: [], next_cursor: null } });
    renderWithApp(<SessionsSection />);
    expect(await screen.findByText('No signed-in sessions to show.')).toBeInTheDocument();
  });

  it('shows the error with a retry that loads the list', async () => {
    let fail = true;
    answer('GET', '/v1/me/sessions', () =>
      fail
        ? { status: 503, body: { error: { code: 'DEPENDENCY_UNAVAILABLE', message: 'x', details: {} }, request_id: 'r' } }
        : { body: { items: [laptop], next_cursor: null } },
    );
    renderWithApp(<SessionsSection />);
    const retry = await screen.findByRole('button', { name: 'Try again' });
    expect(screen.getByRole('alert')).toBeInTheDocument();
    fail = false;
    await userEvent.click(retry);
    expect(await screen.findByText('This device')).toBeInTheDocument();
  });

  it('loads the next page when asked', async () => {
    answer('GET', '/v1/me/sessions', (init) => {
      const cursor = (init.params as { query: { cursor?: string } }).query.cursor;
      return { body: cursor === 'c1' ? { items: [laptop], next_cursor: null } : { items: [phone], next_cursor: 'c1' } };
    });
    renderWithApp(<SessionsSection />);
    await userEvent.click(await screen.findByRole('button', { name: 'Load more' }));
    expect(await screen.findByText('This device')).toBeInTheDocument();
    expect(screen.getByRole('rowheader', { name: 'Safari on iPhone' })).toBeInTheDocument();
  });
});
