import { fireEvent, screen } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { setSession } from '@/lib/session';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { TenantsPage } from './TenantsPage';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const tenant = (id: string, name: string) => ({ id, name, status: 'active', require_2fa: false, owner_count: 1, created_at: '2026-02-01T00:00:00Z' });

beforeEach(() => {
  resetApi();
  setSession('access-token', 900);
});

describe('TenantsPage', () => {
  it('searches with q and reads on past pages the search left empty', async () => {
    answer('GET', '/v1/admin/tenants', (init) => {
      const query = (init.params as { query: Record<string, string> }).query;
      if (!query.q) return { body: { items: [tenant('tn_a', 'Alpha'), tenant('tn_b', 'Beta')], next_cursor: null } };
      // the API narrows each page it reads: the first page held no match
      return query.cursor ? { body: { items: [tenant('tn_b', 'Beta')], next_cursor: null } } : { body: { items: [], next_cursor: 'c2' } };
    });
    renderWithApp(<TenantsPage />, { path: '/admin/tenants', route: '/admin/tenants' });
    expect(await screen.findByRole('link', { name: 'Alpha' })).toHaveAttribute('href', '/admin/tenants/tn_a');

    fireEvent.change(screen.getByLabelText('Name or id'), { target: { value: 'bet' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));

    expect(await screen.findByRole('link', { name: 'Beta' })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Alpha' })).toBeNull();
    const searched = calls.filter((c) => (c.init.params as { query: Record<string, string> }).query.q === 'bet');
    expect(searched.map((c) => (c.init.params as { query: Record<string, string> }).query.cursor)).toEqual([undefined, 'c2']);
  });
});
