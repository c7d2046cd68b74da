import type { UseInfiniteQueryResult, InfiniteData } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ExportCsvButton } from './ExportCsvButton';
import { PageTitle } from './PageTitle';
import { SearchForm, useSearchQuery } from './SearchForm';
import { Empty, ErrorAlert, Loading } from './States';
import type { CsvColumn } from '@/lib/csv';

type Page<T> = { items: T[]; next_cursor?: string | null };

/**
 * An admin listing searched by `?q=` and read page by page ("Show more"), with the CSV export of the
 * same search. The texts come from `ns`'s `list.*` keys: title, search, searchHint, searchLabel,
 * searchSubmit, noMatch, empty, caption, more, loadingMore.
 */
export function SearchableList<T>({
  ns,
  csvName,
  columns,
  useList,
  fetchPage,
  head,
  row,
}: {
  ns: string;
  csvName: string;
  columns: CsvColumn<T>[];
  useList: (q: string) => UseInfiniteQueryResult<InfiniteData<Page<T>>>;
  fetchPage: (q: string, cursor: string | undefined) => Promise<Page<T>>;
  head: ReactNode;
  row: (item: T) => ReactNode;
}) {
  const { t } = useTranslation(ns);
  const [q, search] = useSearchQuery();
  const list = useList(q);
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <PageTitle>{t('list.title')}</PageTitle>
      <SearchForm
        query={q}
        onSearch={search}
        label={t('list.search')}
        hint={t('list.searchHint')}
        formLabel={t('list.searchLabel')}
        submitLabel={t('list.searchSubmit')}
      >
        <ExportCsvButton filename={csvName} columns={columns} fetchPage={(cursor) => fetchPage(q, cursor)} />
      </SearchForm>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />
      ) : rows.length === 0 && !list.hasNextPage ? (
        <Empty>{q ? t('list.noMatch', { q }) : t('list.empty')}</Empty>
      ) : (
        <>
          <table>
            <caption className="visually-hidden">{t('list.caption')}</caption>
            <thead>
              <tr>{head}</tr>
            </thead>
            <tbody>{rows.map(row)}</tbody>
          </table>
          {list.hasNextPage && (
            <button
              type="button"
              className="button"
              data-variant="secondary"
              disabled={list.isFetchingNextPage}
              onClick={() => void list.fetchNextPage()}
            >
              {list.isFetchingNextPage ? t('list.loadingMore') : t('list.more')}
            </button>
          )}
        </>
      )}
    </>
  );
}
