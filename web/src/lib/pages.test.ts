import { describe, expect, it } from 'vitest';
import { pageWithMatches } from './pages';

describe('pageWithMatches', () => {
  it('reads on past empty searched pages until something matched', async () => {
    const pages: Record<string, { items: number[]; next_cursor: string | null }> = {
      start: { items: [], next_cursor: 'b' },
      b: { items: [], next_cursor: 'c' },
      c: { items: [7], next_cursor: 'd' },
    };
    const seen: string[] = [];
    const found = await pageWithMatches(async (cursor) => {
      seen.push(cursor ?? 'start');
      return pages[cursor ?? 'start']!;
    }, undefined);
    expect(found).toEqual({ items: [7], next_cursor: 'd' });
    expect(seen).toEqual(['start', 'b', 'c']);
  });

  it('stops at the end of the list and after maxPages', async () => {
    const ended = await pageWithMatches(async () => ({ items: [], next_cursor: null }), undefined);
    expect(ended).toEqual({ items: [], next_cursor: null });
    let calls = 0;
    const capped = await pageWithMatches(
      async () => {
        calls += 1;
        return { items: [], next_cursor: 'more' };
      },
      undefined,
      3,
    );
    expect(calls).toBe(3);
    expect(capped.next_cursor).toBe('more');
  });
});
