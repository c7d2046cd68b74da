/**
 * One uPlot chart, in its own chunk: the metrics panel loads it with `lazy()` when a chart is
 * shown, so uPlot (about 20 KB gzipped) is never part of a page that draws none.
 *
 * The canvas is a picture for sighted people; the panel wraps it in `role="img"` with a text
 * summary and offers the same numbers as a table. Colours come from the design tokens (CSS
 * custom properties read at draw time), axis labels from Intl in the page's language, and
 * uPlot's inline sizes are set through the CSSOM, which the Content-Security-Policy allows.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Columns } from '@/lib/metrics';

export interface ChartSeries {
  label: string;
  /** A design token, e.g. `--color-primary`. */
  color: string;
  dashed?: boolean;
}

export interface ChartProps {
  data: Columns;
  series: readonly ChartSeries[];
  /** Formats a value on the y axis (a percentage, a size, a rate). */
  formatValue: (value: number) => string;
  /** Formats a time on the x axis (epoch seconds). */
  formatTime: (seconds: number) => string;
  /** The y scale starts at zero and reaches at least this (100 for a percentage). */
  minMax?: number;
  /** Binary steps for the y axis (sizes: 256 MB, 512 MB, 1 GB), else uPlot's decimal ones. */
  binary?: boolean;
  /** The x axis shows the whole period, from and to in epoch seconds, however few points there are. */
  from: number;
  to: number;
  height?: number;
}

// Powers of two (…, 256 KB, 512 KB, 1 MB, 2 MB, …): ticks fall on sizes people read.
const BINARY_STEPS = Array.from({ length: 41 }, (_, i) => 2 ** i);

// Axis labels are drawn at 12 px; this is enough room for the widest one, which uPlot cannot measure before drawing.
const labelWidth = (_u: uPlot, values: string[] | null) =>
  values && values.length ? Math.max(...values.map((v) => v.length)) * 7 + 18 : 50;

function token(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#000000';
}

export default function Chart({ data, series, formatValue, formatTime, minMax = 0, binary = false, from, to, height = 200 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const target = box.current;
    if (!target) return;
    const ink = token('--color-text-muted');
    const grid = token('--color-border');
    const axis = (values: (u: uPlot, splits: number[]) => string[], extra: Partial<uPlot.Axis> = {}): uPlot.Axis => ({
      stroke: ink,
      grid: { stroke: grid, width: 0.5 },
      ticks: { stroke: grid, width: 0.5 },
      values,
      ...extra,
    });
    const plot = new uPlot(
      {
        width: Math.max(target.clientWidth, 240),
        height,
        legend: { show: false },
        // Room on the right for the last time label, which is centred on the period's end.
        padding: [12, 32, 0, 0],
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true, range: () => [from, to] },
          y: { range: (_u, _min, max) => [0, Math.max(max, minMax) * 1.05 || 1] },
        },
        axes: [
          axis((_u, splits) => splits.map((s) => formatTime(s)), { space: 80 }),
          axis((_u, splits) => splits.map((s) => formatValue(s)), { size: labelWidth, ...(binary ? { incrs: BINARY_STEPS } : {}) }),
        ],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: token(s.color),
            width: 2,
            ...(s.dashed ? { dash: [6, 4] } : {}),
            // uPlot draws the points where they are sparse (a fresh server's first minutes), lines only where dense.
            points: { size: 6 },
          })),
        ],
      },
      data as uPlot.AlignedData,
      target,
    );
    // Follow the container's width (the page's layout, a rotated phone, a zoomed browser).
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(target.clientWidth, 240), height }));
    resize.observe(target);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data, series, formatValue, formatTime, minMax, binary, from, to, height]);

  return <div ref={box} className="metrics-chart-canvas" />;
}
