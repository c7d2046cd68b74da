import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { renderWithApp } from '@/test/render';
import type { Period } from '@/lib/metrics';
import { MetricsPanel, type MetricsQuery } from './MetricsPanel';

// uPlot draws on a canvas, which jsdom has not got; the chart's data is what matters here.
const drawn: unknown[] = [];
vi.mock('./Chart', () => ({
  default: (props: { data: unknown }) => {
    drawn.push(props.data);
    return <div data-testid="chart" />;
  },
}));

const csv = vi.hoisted(() => ({ downloads: [] as { name: string; text: string }[] }));
vi.mock('@/lib/csv', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/lib/csv')>()),
  downloadText: (name: string, text: string) => csv.downloads.push({ name, text }),
}));

const points = [
  { t: 1_764_900_000, cpu_percent: 20, memory_bytes: 512 * 1024 * 1024, memory_limit_bytes: 1024 * 1024 * 1024, rx_bytes: 0, tx_bytes: 0, disk_bytes: 10 * 1024 * 1024, state: 'running' },
  { t: 1_764_900_060, cpu_percent: 75.5, memory_bytes: 600 * 1024 * 1024, memory_limit_bytes: 1024 * 1024 * 1024, rx_bytes: 6_000, tx_bytes: 1_200, disk_bytes: 11 * 1024 * 1024, state: 'running' },
];

function Harness({ query, onPeriod, downloadCsv }: { query: MetricsQuery; onPeriod?: (p: Period) => void; downloadCsv?: () => Promise<string> }) {
  const [period, setPeriod] = useState<Period>('24h');
  return (
    <MetricsPanel
      title="Usage history"
      period={period}
      onPeriodChange={(p) => {
        setPeriod(p);
        onPeriod?.(p);
      }}
      query={query}
      downloadCsv={downloadCsv ?? (async () => 't,cpu_percent\r\n')}
      csvName="survival-metrics"
    />
  );
}

const ok = (data: MetricsQuery['data']): MetricsQuery => ({ data, isPending: false, isError: false, error: null, refetch: vi.fn() });

beforeEach(() => {
  drawn.length = 0;
  csv.downloads.length = 0;
});

describe('MetricsPanel', () => {
  it('draws the four charts, each with a text summary of its latest and highest value', async () => {
    renderWithApp(<Harness query={ok({ resolution: '1m', points })} />);

    expect(await screen.findAllByTestId('chart')).toHaveLength(4);
    expect(screen.getByRole('img', { name: 'CPU: CPU latest 75.5 %, peak 75.5 %' })).toBeInTheDocument();
    expect(screen.getByRole('img', { name: /^Memory: Memory used latest 600 MB, peak 600 MB; Memory limit latest 1 GB/ })).toBeInTheDocument();
    expect(screen.getByRole('img', { name: /^Network: Received latest 100 bytes\/s/ })).toBeInTheDocument();
    expect(screen.getByText('One point every minute (2 points).')).toBeInTheDocument();
    // The memory chart draws the limit beside the use
    expect(drawn).toContainEqual([[1_764_900_000, 1_764_900_060], [512 * 1024 * 1024, 600 * 1024 * 1024], [1024 ** 3, 1024 ** 3]]);
  });

  it('shows the same numbers as a table, newest first, behind a button that says whether it is open', async () => {
    const user = userEvent.setup();
    renderWithApp(<Harness query={ok({ resolution: '1m', points })} />);

    const toggle = screen.getByRole('button', { name: 'Show as table' });
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await user.click(toggle);
    expect(screen.getByRole('button', { name: 'Hide table' })).toHaveAttribute('aria-expanded', 'true');
    const table = screen.getByRole('table', { name: /Samples of the last 24 hours, one every minute/ });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toHaveTextContent('75.5 %');
    expect(rows[1]).toHaveTextContent('100 bytes/s');
    expect(rows[1]).toHaveTextContent('Running');
    expect(rows[2]).toHaveTextContent('20 %');
  });

  it('asks for another period when one is picked', async () => {
    const user = userEvent.setup();
    const onPeriod = vi.fn();
    renderWithApp(<Harness query={ok({ resolution: '1m', points })} onPeriod={onPeriod} />);

    const group = screen.getByRole('group', { name: 'Period' });
    expect(within(group).getByRole('radio', { name: '24 hours' })).toBeChecked();
    await user.click(within(group).getByRole('radio', { name: '7 days' }));
    expect(onPeriod).toHaveBeenCalledWith('7d');
    expect(within(group).getByRole('radio', { name: '7 days' })).toBeChecked();
  });

  it("downloads the API's CSV of the period under a name that says what it is", async () => {
    const user = userEvent.setup();
    renderWithApp(<Harness query={ok({ resolution: '1m', points })} downloadCsv={async () => 't,cpu_percent\r\n1,2\r\n'} />);

    await user.click(screen.getByRole('button', { name: 'Download CSV' }));
    expect(await screen.findByText('The CSV has been downloaded.')).toBeInTheDocument();
    expect(csv.downloads).toEqual([{ name: 'survival-metrics-24h.csv', text: 't,cpu_percent\r\n1,2\r\n' }]);
  });

  it('says when there are no samples yet, and offers no table', () => {
    renderWithApp(<Harness query={ok({ resolution: '1m', points: [] })} />);

    expect(screen.getByText(/No samples in this period yet/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Show as table' })).toBeDisabled();
    expect(screen.queryByTestId('chart')).toBeNull();
  });
});
