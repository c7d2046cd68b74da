/**
 * Usage history (issue 13 item 2): CPU, memory against its limit, network and disk over the
 * last hour, day, week or month, as charts, as a table of the same numbers, and as CSV.
 *
 * Feature-free: the server page and the admin node page each pass their own query and CSV
 * download. The charts are a lazy chunk (uPlot); the table and the text summaries are not, so
 * the numbers are there for everyone even before (or without) the canvas.
 */
import { lazy, Suspense, useId, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorAlert, Loading } from '@/components/States';
import { downloadText } from '@/lib/csv';
import { describeError } from '@/lib/errors';
import { formatBytes, formatDate, formatPercent } from '@/lib/format';
import i18n from '@/lib/i18n';
import { columns, PERIODS, periodWindow, summary, withRates, type MetricPoint, type Period, type Row } from '@/lib/metrics';
import type { ChartSeries } from './Chart';
import './Metrics.css';

const Chart = lazy(() => import('./Chart'));

export interface MetricsData {
  resolution: string;
  points: MetricPoint[];
}

export interface MetricsQuery {
  data: MetricsData | undefined;
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
}

const formatRate = (bytesPerSecond: number) => i18n.t('metrics:perSecond', { size: formatBytes(bytesPerSecond) });

function timeFormatter(period: Period): (seconds: number) => string {
  const options: Intl.DateTimeFormatOptions =
    period === '1h' || period === '24h' ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short' };
  const format = new Intl.DateTimeFormat(i18n.resolvedLanguage ?? 'en', options);
  return (seconds) => format.format(new Date(seconds * 1000));
}

interface ChartSpec {
  key: 'cpu' | 'memory' | 'network' | 'disk';
  fields: (keyof Row)[];
  series: ChartSeries[];
  format: (value: number) => string;
  minMax?: number;
  binary?: boolean;
}

export function MetricsPanel({
  title,
  period,
  onPeriodChange,
  query,
  downloadCsv,
  csvName,
}: {
  title: string;
  period: Period;
  onPeriodChange: (period: Period) => void;
  query: MetricsQuery;
  /** The API's own CSV of the same range (`?format=csv`). */
  downloadCsv: () => Promise<string>;
  /** File name without the period and extension, e.g. `survival-metrics`. */
  csvName: string;
}) {
  const { t, i18n: i18next } = useTranslation('metrics');
  const headingId = useId();
  const tableId = useId();
  const [showTable, setShowTable] = useState(false);
  const [csv, setCsv] = useState<{ busy: boolean; message: string }>({ busy: false, message: '' });

  const resolution = query.data?.resolution ?? '1m';
  const rows = useMemo(() => withRates(query.data?.points ?? [], resolution), [query.data, resolution]);
  // Rebuilt when the language changes, so the axes speak it too.
  const formatTime = useMemo(() => timeFormatter(period), [period, i18next.resolvedLanguage]);
  // The whole period on the x axis, as the query asked for it (recomputed when new data arrives).
  const span = useMemo(() => periodWindow(period), [period, query.data]);
  const charts: ChartSpec[] = useMemo(
    () => [
      {
        key: 'cpu',
        fields: ['cpu_percent'],
        series: [{ label: t('series.cpu'), color: '--color-primary' }],
        format: formatPercent,
        minMax: 100,
      },
      {
        key: 'memory',
        fields: ['memory_bytes', 'memory_limit_bytes'],
        series: [
          { label: t('series.memory'), color: '--color-primary' },
          { label: t('series.memoryLimit'), color: '--color-danger', dashed: true },
        ],
        format: formatBytes,
        binary: true,
      },
      {
        key: 'network',
        fields: ['rx_per_second', 'tx_per_second'],
        series: [
          { label: t('series.received'), color: '--color-primary' },
          { label: t('series.sent'), color: '--color-success' },
        ],
        format: formatRate,
        minMax: 1024, // an idle server's traffic still reads as a rate, on a 1 KB/s scale
        binary: true,
      },
      {
        key: 'disk',
        fields: ['disk_bytes'],
        series: [{ label: t('series.disk'), color: '--color-warning' }],
        format: formatBytes,
        minMax: 1024 * 1024,
        binary: true,
      },
    ],
    // eslint-style note: `t` changes with the language, which is what should rebuild the labels.
    [t],
  );

  // Built once per answer: a new array would make each chart redraw from scratch on every render.
  const chartData = useMemo(() => charts.map((c) => columns(rows, c.fields, resolution)), [charts, rows, resolution]);

  const download = async () => {
    setCsv({ busy: true, message: t('csv.working') });
    try {
      downloadText(`${csvName}-${period}.csv`, await downloadCsv());
      setCsv({ busy: false, message: t('csv.done') });
    } catch (error) {
      setCsv({ busy: false, message: describeError(error, t) });
    }
  };

  let body: ReactNode;
  if (query.isPending) body = <Loading label={t('loading')} />;
  else if (query.isError) body = <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />;
  else if (rows.length === 0) body = <p className="card">{t('empty')}</p>;
  else
    body = (
      <>
        <p className="muted">{t('resolution', { step: t(`step.${resolution}`, { defaultValue: resolution }), count: rows.length })}</p>
        <div className="metrics-grid">
          {charts.map((chart, i) => (
            <figure key={chart.key} className="metrics-chart">
              <figcaption>{t(`chart.${chart.key}`)}</figcaption>
              <div role="img" aria-label={describe(chart, rows, t)}>
                <Suspense fallback={<Loading label={t('drawing')} />}>
                  <Chart
                    data={chartData[i]!}
                    series={chart.series}
                    formatValue={chart.format}
                    formatTime={formatTime}
                    minMax={chart.minMax}
                    binary={chart.binary}
                    from={span.from}
                    to={span.to}
                  />
                </Suspense>
              </div>
              <ul className="metrics-legend" aria-hidden="true">
                {chart.series.map((s) => (
                  <li key={s.label} data-color={s.color.slice('--color-'.length)} data-dashed={s.dashed ? 'true' : undefined}>
                    {s.label}
                  </li>
                ))}
              </ul>
            </figure>
          ))}
        </div>
        {showTable && <SamplesTable id={tableId} rows={rows} period={period} resolution={resolution} />}
      </>
    );

  return (
    <section aria-labelledby={headingId} className="metrics">
      <h2 id={headingId}>{title}</h2>
      <div className="metrics-toolbar">
        <fieldset className="metrics-periods">
          <legend>{t('period.label')}</legend>
          {PERIODS.map((p) => (
            <label key={p}>
              <input type="radio" name={`${headingId}-period`} value={p} checked={period === p} onChange={() => onPeriodChange(p)} />
              <span>{t(`period.${p}`)}</span>
            </label>
          ))}
        </fieldset>
        <div className="button-row">
          <button
            type="button"
            className="button"
            data-variant="secondary"
            aria-expanded={showTable}
            aria-controls={tableId}
            disabled={rows.length === 0}
            onClick={() => setShowTable(!showTable)}
          >
            {showTable ? t('table.hide') : t('table.show')}
          </button>
          <button type="button" className="button" data-variant="secondary" disabled={csv.busy} onClick={() => void download()}>
            {t('csv.download')}
          </button>
          <span role="status" className="muted">
            {csv.message}
          </span>
        </div>
      </div>
      {body}
    </section>
  );
}

function describe(chart: ChartSpec, rows: readonly Row[], t: (key: string, options?: Record<string, unknown>) => string): string {
  const parts = chart.fields.map((field, i) => {
    const { latest, peak } = summary(rows, field);
    const label = chart.series[i]!.label;
    if (latest === null || peak === null) return t('summary.none', { series: label });
    return t('summary.values', { series: label, latest: chart.format(latest), peak: chart.format(peak) });
  });
  return `${t(`chart.${chart.key}`)}: ${parts.join('; ')}`;
}

function SamplesTable({ id, rows, period, resolution }: { id: string; rows: readonly Row[]; period: Period; resolution: string }) {
  const { t } = useTranslation('metrics');
  const cell = (value: number | null | undefined, format: (v: number) => string) => (typeof value === 'number' ? format(value) : '—');
  // Newest first: the table is read from the top, and the latest minutes are what people look for.
  const newestFirst = [...rows].reverse();
  return (
    <div id={id} className="metrics-table" tabIndex={0} role="region" aria-label={t('table.region')}>
      <table>
        <caption>{t('table.caption', { period: t(`period.${period}`), step: t(`step.${resolution}`, { defaultValue: resolution }) })}</caption>
        <thead>
          <tr>
            <th scope="col">{t('table.time')}</th>
            <th scope="col">{t('table.state')}</th>
            <th scope="col">{t('series.cpu')}</th>
            <th scope="col">{t('series.memory')}</th>
            <th scope="col">{t('series.memoryLimit')}</th>
            <th scope="col">{t('series.received')}</th>
            <th scope="col">{t('series.sent')}</th>
            <th scope="col">{t('series.disk')}</th>
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((row) => (
            <tr key={row.t}>
              <th scope="row">{formatDate(row.t * 1000)}</th>
              <td>{row.state ? t(`state.${row.state}`, { defaultValue: row.state }) : '—'}</td>
              <td>{cell(row.cpu_percent, formatPercent)}</td>
              <td>{cell(row.memory_bytes, formatBytes)}</td>
              <td>{cell(row.memory_limit_bytes, formatBytes)}</td>
              <td>{cell(row.rx_per_second, formatRate)}</td>
              <td>{cell(row.tx_per_second, formatRate)}</td>
              <td>{cell(row.disk_bytes, formatBytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
