import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { collectPages, downloadText, toCsv, type CsvColumn } from '@/lib/csv';
import { describeError } from '@/lib/errors';

/**
 * "Export CSV" for a cursor-paginated list: reads every page with the list's current filters
 * (up to 10 000 rows) and downloads `<filename>.csv`. The outcome is announced in a live region.
 */
export function ExportCsvButton<T>({
  filename,
  columns,
  fetchPage,
}: {
  filename: string;
  columns: readonly CsvColumn<T>[];
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor?: string | null }>;
}) {
  const { t } = useTranslation('admin');
  const [state, setState] = useState<{ busy: boolean; message: string }>({ busy: false, message: '' });
  const run = async () => {
    setState({ busy: true, message: t('csv.working') });
    try {
      const { rows, truncated } = await collectPages(fetchPage);
      downloadText(`${filename}.csv`, toCsv(rows, columns));
      setState({ busy: false, message: t(truncated ? 'csv.truncated' : 'csv.done', { count: rows.length }) });
    } catch (error) {
      setState({ busy: false, message: describeError(error, t) });
    }
  };
  return (
    <span className="csv-export">
      <button type="button" className="button" data-variant="secondary" disabled={state.busy} onClick={() => void run()}>
        {t('csv.export')}
      </button>
      <span role="status" className="muted">
        {state.message}
      </span>
    </span>
  );
}
