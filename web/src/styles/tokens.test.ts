import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** WCAG 2.2 contrast of every text/background pair the styles use (AA: 4.5:1 for text). */
// Vitest runs in web/ (vite.config.ts); the CSS is read as text, not through Vite's CSS pipeline.
const css = readFileSync(resolve(process.cwd(), 'src/styles/tokens.css'), 'utf8');
const tokens = Object.fromEntries([...css.matchAll(/--(color-[a-z-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1], m[2]]));

function luminance(hex: string): number {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

// [text, background]: add a pair when a style puts one token's text on another's background.
const PAIRS: [string, string][] = [
  ['color-text', 'color-bg'],
  ['color-text', 'color-surface'],
  ['color-text-muted', 'color-bg'],
  ['color-text-muted', 'color-surface'],
  ['color-primary', 'color-bg'],
  ['color-primary', 'color-surface'],
  ['color-primary-text', 'color-primary'],
  ['color-primary-text', 'color-primary-hover'],
  ['color-danger-text', 'color-danger'],
  ['color-danger', 'color-danger-bg'],
  ['color-danger', 'color-bg'],
  ['color-success', 'color-success-bg'],
  ['color-success', 'color-bg'],
  ['color-warning', 'color-warning-bg'],
  ['color-disabled-text', 'color-disabled-bg'],
  ['color-terminal-text', 'color-terminal-bg'],
];

describe('design tokens', () => {
  it.each(PAIRS)('%s on %s reaches 4.5:1', (text, background) => {
    expect(tokens[text], text).toBeDefined();
    expect(tokens[background], background).toBeDefined();
    expect(contrast(tokens[text]!, tokens[background]!)).toBeGreaterThanOrEqual(4.5);
  });
});
