/**
 * Metrics history for the charts (issue 13 item 2): the periods a person picks, and the series
 * each chart draws from the API's points (`GET .../metrics`, oldest first, `t` in epoch seconds).
 * Pure functions, unit-tested; the chart component only draws what these return.
 */

export const PERIODS = ['1h', '24h', '7d', '30d'] as const;
export type Period = (typeof PERIODS)[number];

const PERIOD_SECONDS: Record<Period, number> = { '1h': 3_600, '24h': 86_400, '7d': 7 * 86_400, '30d': 30 * 86_400 };

/** Seconds between two points at each resolution the API answers with. */
export const RESOLUTION_SECONDS: Record<string, number> = { '1m': 60, '5m': 300, '1h': 3_600 };

export interface MetricPoint {
  t: number;
  cpu_percent?: number | null;
  memory_bytes?: number | null;
  memory_limit_bytes?: number | null;
  rx_bytes?: number | null;
  tx_bytes?: number | null;
  disk_bytes?: number | null;
  state?: string | null;
}

/** The window `[from, to]` in epoch seconds for a period ending now (to the whole minute, so a
 * re-render within the same minute asks for the same range and hits the query cache). */
export function periodWindow(period: Period, nowMs: number = Date.now()): { from: number; to: number } {
  const to = Math.floor(nowMs / 60_000) * 60;
  return { from: to - PERIOD_SECONDS[period], to };
}

/** A point per row of the table and the charts: the API's point plus the network rates. */
export interface Row extends MetricPoint {
  rx_per_second: number | null;
  tx_per_second: number | null;
}

/**
 * The API gives the bytes received and sent **during** each point's interval (it has already
 * turned Wings' counters into increases, restarts included), so the traffic at a point is
 * those bytes over the interval's length: the same unit, bytes per second, at every resolution.
 */
export function withRates(points: readonly MetricPoint[], resolution: string): Row[] {
  const step = RESOLUTION_SECONDS[resolution] ?? 60;
  const rate = (bytes: number | null | undefined) => (typeof bytes === 'number' ? bytes / step : null);
  return points.map((p) => ({ ...p, rx_per_second: rate(p.rx_bytes), tx_per_second: rate(p.tx_bytes) }));
}

/** uPlot's columnar data: `[times, ...series]`. */
export type Columns = [number[], ...(number | null)[][]];

/**
 * Columns for one chart. Where samples are missing for longer than two steps of the resolution
 * (the node did not answer, the server was not there), a null point breaks the line so the
 * chart shows a gap instead of a straight line across the missing time.
 */
export function columns(rows: readonly Row[], fields: readonly (keyof Row)[], resolution: string): Columns {
  const step = RESOLUTION_SECONDS[resolution] ?? 60;
  const times: number[] = [];
  const series: (number | null)[][] = fields.map(() => []);
  rows.forEach((row, i) => {
    const prev = rows[i - 1];
    if (prev && row.t - prev.t > 2 * step) {
      times.push(prev.t + step);
      series.forEach((s) => s.push(null));
    }
    times.push(row.t);
    fields.forEach((field, j) => {
      const value = row[field];
      series[j]!.push(typeof value === 'number' ? value : null);
    });
  });
  return [times, ...series];
}

/** The latest and the highest value of a field, for the chart's text summary. */
export function summary(rows: readonly Row[], field: keyof Row): { latest: number | null; peak: number | null } {
  let latest: number | null = null;
  let peak: number | null = null;
  for (const row of rows) {
    const value = row[field];
    if (typeof value !== 'number') continue;
    latest = value;
    peak = peak === null ? value : Math.max(peak, value);
  }
  return { latest, peak };
}

/** A file name from a display name: lower-case letters, digits and dashes only. */
export function fileSlug(name: string): string {
  return (
    name
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'metrics'
  );
}
