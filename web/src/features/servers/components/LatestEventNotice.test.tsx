import { screen } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { answer, calls, resetApi } from '@/test/apiStub';
import { renderWithApp } from '@/test/render';
import { LatestEventNotice } from './LatestEventNotice';

vi.mock('@/lib/api', async () => (await import('@/test/apiStub')).apiStubModule());

const NOW = Date.parse('2026-12-05T08:00:00Z');
const events = (at: string) => ({
  body: { items: [{ id: 'ev1', type: 'server.crash_loop', at, details: { crashes: 3 } }], next_cursor: null },
});

beforeEach(() => resetApi());

describe('LatestEventNotice', () => {
  it('names the newest event of the last day and links to the full history', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/servers/{server_id}/events', events('2026-12-05T07:10:00Z'));
    renderWithApp(<LatestEventNotice tenantId="ten_1" serverId="srv-1" now={NOW} />);

    expect(await screen.findByRole('status')).toHaveTextContent('The server is in a crash loop');
    expect(screen.getByRole('link', { name: 'See the metrics and events' })).toHaveAttribute('href', '/t/ten_1/servers/srv-1/metrics');
  });

  it('says nothing about an event older than a day', async () => {
    answer('GET', '/v1/tenants/{tenant_id}/servers/{server_id}/events', events('2026-12-03T07:10:00Z'));
    const { container } = renderWithApp(<LatestEventNotice tenantId="ten_1" serverId="srv-1" now={NOW} />);

    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await new Promise((done) => setTimeout(done, 0)); // the answer renders
    expect(container).toBeEmptyDOMElement();
  });
});
