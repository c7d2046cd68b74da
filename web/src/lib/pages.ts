/**
 * One screenful of a searched admin list. The API narrows each page it reads to the search
 * (one Query per page, never a Scan), so a searched page may be empty while `next_cursor` leads
 * on: read on, up to `maxPages`, until something matched or the list ended.
 */
export async function pageWithMatches<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor?: string | null }>,
  cursor: string | undefined,
  maxPages = 20,
): Promise<{ items: T[]; next_cursor: string | null }> {
  const items: T[] = [];
  let next: string | undefined = cursor;
  for (let read = 0; read < maxPages; read += 1) {
    const page = await fetchPage(next);
    items.push(...page.items);
    next = page.next_cursor ?? undefined;
    if (items.length > 0 || !next) break;
  }
  return { items, next_cursor: next ?? null };
}
