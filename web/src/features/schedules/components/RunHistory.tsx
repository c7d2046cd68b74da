import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Empty, ErrorAlert, Loading } from '@/components/States';
import { formatDate } from '@/lib/format';
import { useRuns, type Schedule } from '../api/schedules';

/** A schedule's runs, newest first, each with its tasks' outcomes and errors; ten a page. */
export function RunHistory({ tenantId, serverId, schedule }: { tenantId: string; serverId: string; schedule: Schedule }) {
  const { t } = useTranslation('schedules');
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1) ?? null;
  const runs = useRuns(tenantId, serverId, schedule.id, cursor);

  if (runs.isPending) return <Loading label={t('history.loading')} />;
  if (runs.isError) return <ErrorAlert error={runs.error} onRetry={() => void runs.refetch()} />;
  return (
    <section aria-label={t('history.title', { name: schedule.name })}>
      <h4>{t('history.title', { name: schedule.name })}</h4>
      {runs.data.items.length === 0 ? (
        <Empty>{t('history.empty')}</Empty>
      ) : (
        <table>
          <caption className="visually-hidden">{t('history.caption', { name: schedule.name })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('history.started')}</th>
              <th scope="col">{t('history.trigger')}</th>
              <th scope="col">{t('history.outcome')}</th>
              <th scope="col">{t('history.tasks')}</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.items.map((run) => (
              <tr key={run.id}>
                <th scope="row">
                  <time dateTime={run.started_at}>{formatDate(run.started_at)}</time>
                </th>
                <td>{t(`trigger.${run.trigger}`)}</td>
                <td>
                  <span className="badge" data-status={run.status}>
                    {run.status === 'running' && <span className="spinner" aria-hidden="true" />} {t(`status.${run.status}`)}
                  </span>
                  {run.reason && <div className="muted">{run.reason}</div>}
                </td>
                <td>
                  <ol>
                    {run.tasks.map((task, index) => (
                      <li key={index}>
                        {t(`actions.${task.action}`)}: {t(`status.${task.status}`)}
                        {task.error && <div className="field-error">{task.error}</div>}
                      </li>
                    ))}
                  </ol>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="button-row">
        {cursors.length > 0 && (
          <button type="button" className="button" data-variant="secondary" onClick={() => setCursors((c) => c.slice(0, -1))}>
            {t('history.newer')}
          </button>
        )}
        {runs.data.next_cursor && (
          <button type="button" className="button" data-variant="secondary" onClick={() => setCursors((c) => [...c, runs.data.next_cursor!])}>
            {t('history.older')}
          </button>
        )}
      </div>
    </section>
  );
}
