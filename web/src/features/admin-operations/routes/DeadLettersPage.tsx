import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import type { CsvColumn } from '@/lib/csv';
import { formatDate } from '@/lib/format';
import { fetchDeadLetters, useDeadLetters, useRedrive, type DeadLetter } from '../api/operations';

/** The Stripe events that failed five times: read them, fix the cause, send them back. */
export function DeadLettersPage() {
  const { t } = useTranslation('adminOperations');
  const letters = useDeadLetters();
  const redrive = useRedrive();
  const [asking, setAsking] = useState(false);
  const columns: CsvColumn<DeadLetter>[] = [
    { header: t('deadLetters.columns.messageId'), value: (d) => d.message_id },
    { header: t('deadLetters.columns.eventId'), value: (d) => d.event_id },
    { header: t('deadLetters.columns.type'), value: (d) => d.type },
    { header: t('deadLetters.columns.receives'), value: (d) => d.receive_count },
    { header: t('deadLetters.columns.firstReceived'), value: (d) => d.first_received_at },
    { header: t('deadLetters.columns.firstError'), value: (d) => d.first_error },
  ];
  const items = letters.data?.items ?? [];
  return (
    <>
      <PageTitle>{t('deadLetters.title')}</PageTitle>
      <p>{t('deadLetters.intro')}</p>
      {redrive.error && <ErrorAlert error={redrive.error} />}
      {redrive.data && <Notice tone="success">{t('deadLetters.moved', { count: redrive.data.moved })}</Notice>}
      {letters.isPending ? (
        <Loading label={t('deadLetters.loading')} />
      ) : letters.isError ? (
        <ErrorAlert error={letters.error} onRetry={() => void letters.refetch()} />
      ) : items.length === 0 ? (
        <Empty>{t('deadLetters.empty')}</Empty>
      ) : (
        <>
          <div className="button-row">
            <button type="button" className="button" disabled={redrive.isPending} onClick={() => setAsking(true)}>
              {t('deadLetters.redrive')}
            </button>
            <ExportCsvButton filename="dead-letters" columns={columns} fetchPage={async () => ({ items: (await fetchDeadLetters()).items, next_cursor: null })} />
          </div>
          <table>
            <caption className="visually-hidden">{t('deadLetters.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('deadLetters.columns.eventId')}</th>
                <th scope="col">{t('deadLetters.columns.type')}</th>
                <th scope="col">{t('deadLetters.columns.receives')}</th>
                <th scope="col">{t('deadLetters.columns.firstReceived')}</th>
                <th scope="col">{t('deadLetters.columns.firstError')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.message_id}>
                  <th scope="row">
                    <code>{d.event_id ?? d.message_id}</code>
                  </th>
                  <td>{d.type ?? '–'}</td>
                  <td>{d.receive_count}</td>
                  <td>{d.first_received_at ? formatDate(d.first_received_at) : '–'}</td>
                  <td>{d.first_error ?? t('deadLetters.unknownError')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <ConfirmDialog
        isOpen={asking}
        title={t('deadLetters.confirmTitle')}
        confirmLabel={t('deadLetters.redrive')}
        busy={redrive.isPending}
        onCancel={() => setAsking(false)}
        onConfirm={() => redrive.mutate(undefined, { onSettled: () => setAsking(false) })}
      >
        <p>{t('deadLetters.confirmBody', { count: items.length })}</p>
      </ConfirmDialog>
    </>
  );
}
