import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { DeadLettersPage } from './DeadLettersPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const letter = {
  message_id: 'm1', event_id: 'evt_1', type: 'invoice.paid', receive_count: 5, first_received_at: '2026-12-01T10:00:00Z',
  first_error: 'NOT_FOUND: Tenant not found.',
};

beforeEach(() => resetApi());

describe('DeadLettersPage', () => {
  it('lists the dead letters with their first error and sends them back after a confirmation', async () => {
    answer('GET', '/v1/admin/dead-letters', { body: { items: [letter] } });
    answer('POST', '/v1/admin/dead-letters/redrive', { body: { moved: 1 } });
    renderWithApp(<DeadLettersPage />, { path: '/admin/dead-letters', route: '/admin/dead-letters' });
    expect(await screen.findByRole('rowheader', { name: 'evt_1' })).toBeInTheDocument();
    expect(screen.getByText('NOT_FOUND: Tenant not found.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Send all back' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Send the dead letters back?' });
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Send all back' }));
    expect(await screen.findByText('1 event was sent back.')).toBeInTheDocument();
  });

  it('says when the queue is empty', async () => {
    answer('GET', '/v1/admin/dead-letters', { body: { items: [] } });
    renderWithApp(<DeadLettersPage />, { path: '/admin/dead-letters', route: '/admin/dead-letters' });
    expect(await screen.findByText('The dead-letter queue is empty.')).toBeInTheDocument();
  });
});
