import { describe, expect, it } from 'vitest';
import { columns, fileSlug, periodWindow, summary, withRates } from './metrics';

describe('periodWindow', () => {
  it.each([
    ['1h', 3_600],
    ['24h', 86_400],
    ['7d', 604_800],
    ['30d', 2_592_000],
  ] as const)('covers %s ending at the current whole minute', (period, seconds) => {
    const now = Date.UTC(2026, 11, 5, 7, 30, 42, 500);
    const { from, to } = periodWindow(period, now);
    expect(to).toBe(Date.UTC(2026, 11, 5, 7, 30) / 1000);
    expect(to - from).toBe(seconds);
  });
});

describe('withRates', () => {
  it('turns the bytes of each interval into bytes per second at the resolution', () => {
    const points = [
      { t: 0, rx_bytes: 6_000, tx_bytes: 3_000 },
      { t: 60, rx_bytes: 0, tx_bytes: null },
    ];
    expect(withRates(points, '1m').map((r) => [r.rx_per_second, r.tx_per_second])).toEqual([
      [100, 50],
      [0, null],
    ]);
    expect(withRates([{ t: 0, rx_bytes: 30_000 }], '5m')[0]!.rx_per_second).toBe(100);
    expect(withRates([{ t: 0, rx_bytes: 360_000 }], '1h')[0]!.rx_per_second).toBe(100);
  });
});

describe('columns', () => {
  it('puts times first and one array per field, keeping missing values as null', () => {
    const rows = withRates([
      { t: 60, cpu_percent: 5, memory_bytes: 10 },
      { t: 120, cpu_percent: null, memory_bytes: 20 },
    ], '1m');
    expect(columns(rows, ['cpu_percent', 'memory_bytes'], '1m')).toEqual([
      [60, 120],
      [5, null],
      [10, 20],
    ]);
  });

  it('breaks the line where samples are missing for more than two steps of the resolution', () => {
    const rows = withRates([
      { t: 0, cpu_percent: 1 },
      { t: 300, cpu_percent: 2 },
      { t: 600, cpu_percent: 3 },
      { t: 2_400, cpu_percent: 4 },
    ], '1m');
    expect(columns(rows, ['cpu_percent'], '5m')).toEqual([
      [0, 300, 600, 900, 2_400],
      [1, 2, 3, null, 4],
    ]);
  });
});

describe('summary', () => {
  it('reads the latest and the highest value, skipping gaps', () => {
    const rows = withRates([
      { t: 0, cpu_percent: 40 },
      { t: 60, cpu_percent: 90 },
      { t: 120, cpu_percent: 12 },
      { t: 180, cpu_percent: null },
    ], '1m');
    expect(summary(rows, 'cpu_percent')).toEqual({ latest: 12, peak: 90 });
    expect(summary(rows, 'disk_bytes')).toEqual({ latest: null, peak: null });
  });
});

describe('fileSlug', () => {
  it('keeps letters, digits and dashes', () => {
    expect(fileSlug('Survival — Größe 2!')).toBe('survival-gro-e-2');
    expect(fileSlug('***')).toBe('metrics');
  });
});
