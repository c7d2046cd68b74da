import { describe, expect, it } from 'vitest';
import { collectPages, toCsv } from './csv';

describe('toCsv', () => {
  it('writes a header row and quotes commas, quotes and newlines', () => {
    const csv = toCsv([{ name: 'a,b', note: 'say "hi"\nbye', n: 3 }], [
      { header: 'Name', value: (r) => r.name },
      { header: 'Note', value: (r) => r.note },
      { header: 'N', value: (r) => r.n },
    ]);
    expect(csv).toBe('Name,Note,N\r\n"a,b","say ""hi""\nbye",3\r\n');
  });

  it('defuses cells a spreadsheet would run as a formula', () => {
    const csv = toCsv([{ v: '=HYPERLINK("x")' }, { v: '-1+1' }, { v: null }], [{ header: 'v', value: (r) => r.v }]);
    expect(csv.split('\r\n')).toEqual(['v', `"'=HYPERLINK(""x"")"`, "'-1+1", '', '']);
  });
});

describe('collectPages', () => {
  it('follows next_cursor until it is null', async () => {
    const pages: Record<string, { items: number[]; next_cursor: string | null }> = {
      start: { items: [1, 2], next_cursor: 'b' },
      b: { items: [3], next_cursor: null },
    };
    const seen: (string | undefined)[] = [];
    const { rows, truncated } = await collectPages(async (cursor) => {
      seen.push(cursor);
      return pages[cursor ?? 'start']!;
    });
    expect(rows).toEqual([1, 2, 3]);
    expect(truncated).toBe(false);
    expect(seen).toEqual([undefined, 'b']);
  });

  it('stops at maxRows and says the export is truncated', async () => {
    const { rows, truncated } = await collectPages(async () => ({ items: [1, 2, 3], next_cursor: 'more' }), 5);
    expect(rows).toHaveLength(5);
    expect(truncated).toBe(true);
  });
});
