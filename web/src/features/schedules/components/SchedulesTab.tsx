import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { formatDate } from '@/lib/format';
import { denied, useCan, type Can } from '@/features/roles/api/can';
import {
  useCreateSchedule,
  useDeleteSchedule,
  useRunSchedule,
  useSchedules,
  useUpdateSchedule,
  type Schedule,
} from '../api/schedules';
import { RunHistory } from './RunHistory';
import { ScheduleForm } from './ScheduleForm';

export const cronText = (s: Schedule): string =>
  [s.cron.minute, s.cron.hour, s.cron.day_of_month, s.cron.month, s.cron.day_of_week].join(' ');

/** The Schedules tab of a server page: each schedule with its next runs and last outcome, run now, history; a new one. */
export function SchedulesTab({ tenantId, serverId }: { tenantId: string; serverId: string }) {
  const { t } = useTranslation('schedules');
  const schedules = useSchedules(tenantId, serverId);
  const create = useCreateSchedule(tenantId, serverId);
  const can = useCan(tenantId);
  const [created, setCreated] = useState<Schedule | null>(null);

  return (
    <section aria-label={t('title')}>
      <h2>{t('list.title')}</h2>
      {schedules.isPending ? (
        <Loading label={t('list.loading')} />
      ) : schedules.isError ? (
        <ErrorAlert error={schedules.error} onRetry={() => void schedules.refetch()} />
      ) : schedules.data.items.length === 0 ? (
        <Empty>{t('list.empty')}</Empty>
      ) : (
        <ul role="list" className="schedule-list">
          {schedules.data.items.map((s) => (
            <li key={s.id}>
              <ScheduleCard tenantId={tenantId} serverId={serverId} schedule={s} can={can} />
            </li>
          ))}
        </ul>
      )}
      {created && (
        <Notice tone="success">
          {t('form.created', { name: created.name })}{' '}
          {created.next_run_at && t('form.firstRun', { when: formatDate(created.next_run_at) })}
        </Notice>
      )}
      <ScheduleForm
        busy={create.isPending}
        error={create.error}
        disabled={denied(can, 'schedules.write')}
        onSubmit={(body, done) =>
          create.mutate(body, {
            onSuccess: (schedule) => {
              setCreated(schedule);
              done();
            },
          })
        }
      />
      {denied(can, 'schedules.write') && <p className="hint">{t('permissions:denied', { permission: 'schedules.write' })}</p>}
    </section>
  );
}

function ScheduleCard({ tenantId, serverId, schedule, can }: { tenantId: string; serverId: string; schedule: Schedule; can: Can }) {
  const { t } = useTranslation('schedules');
  const run = useRunSchedule(tenantId, serverId);
  const update = useUpdateSchedule(tenantId, serverId);
  const remove = useDeleteSchedule(tenantId, serverId);
  const [showHistory, setShowHistory] = useState(false);
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const headingId = useId();
  const historyId = useId();
  const readOnly = denied(can, 'schedules.write');
  const failure = run.error ?? (editing ? null : update.error) ?? remove.error;

  return (
    <article className="card" aria-labelledby={headingId}>
      <h3 id={headingId}>{schedule.name}</h3>
      <p>
        <code>{cronText(schedule)}</code> · {schedule.timezone}{' '}
        {!schedule.enabled && <span className="badge">{t('list.disabled')}</span>}{' '}
        {schedule.paused && <span className="badge">{t('list.paused')}</span>}
      </p>
      <p>
        {t('list.tasks', { count: schedule.tasks.length })}
        {schedule.only_when_online && <> · {t('list.onlyWhenOnline')}</>}
      </p>
      {schedule.next_runs.length > 0 ? (
        <>
          <p>{t('list.nextRun', { when: formatDate(schedule.next_runs[0]!) })}</p>
          <details>
            <summary>{t('list.nextRuns')}</summary>
            <ol>
              {schedule.next_runs.map((at) => (
                <li key={at}>
                  <time dateTime={at}>{formatDate(at)}</time>
                </li>
              ))}
            </ol>
          </details>
        </>
      ) : (
        <p className="muted">{t('list.noNextRun')}</p>
      )}
      <p>
        {schedule.last_run ? (
          <>
            {t('list.lastRun', { when: formatDate(schedule.last_run.started_at) })}{' '}
            <span className="badge" data-status={schedule.last_run.status}>
              {t(`status.${schedule.last_run.status}`)}
            </span>
          </>
        ) : (
          <span className="muted">{t('list.neverRan')}</span>
        )}
      </p>
      {failure && <ErrorAlert error={failure} />}
      {run.isSuccess && <Notice tone="info">{t('actions.started')}</Notice>}
      <div className="button-row">
        <button
          type="button"
          className="button"
          disabled={readOnly || run.isPending}
          aria-label={t('actions.runNamed', { name: schedule.name })}
          onClick={() =>
            run.mutate(schedule.id, {
              onSuccess: () => setShowHistory(true),
            })
          }
        >
          {t('actions.run')}
        </button>
        <button
          type="button"
          className="button"
          data-variant="secondary"
          aria-expanded={showHistory}
          aria-controls={historyId}
          onClick={() => setShowHistory((v) => !v)}
        >
          {showHistory ? t('actions.hideHistory') : t('actions.history')}
        </button>
        <button
          type="button"
          className="button"
          data-variant="secondary"
          disabled={readOnly}
          aria-expanded={editing}
          aria-label={t('actions.editNamed', { name: schedule.name })}
          onClick={() => setEditing((v) => !v)}
        >
          {t('actions.edit')}
        </button>
        <button
          type="button"
          className="button"
          data-variant="secondary"
          disabled={readOnly || update.isPending}
          onClick={() => update.mutate({ scheduleId: schedule.id, body: { enabled: !schedule.enabled } })}
        >
          {schedule.enabled ? t('actions.disable') : t('actions.enable')}
        </button>
        <button
          type="button"
          className="button"
          data-variant="danger"
          disabled={readOnly || remove.isPending}
          aria-label={t('actions.deleteNamed', { name: schedule.name })}
          onClick={() => setConfirmDelete(true)}
        >
          {t('actions.delete')}
        </button>
      </div>
      {editing && (
        <ScheduleForm
          schedule={schedule}
          busy={update.isPending}
          error={update.error}
          disabled={readOnly}
          onCancel={() => setEditing(false)}
          onSubmit={(body) => update.mutate({ scheduleId: schedule.id, body }, { onSuccess: () => setEditing(false) })}
        />
      )}
      <div id={historyId}>{showHistory && <RunHistory tenantId={tenantId} serverId={serverId} schedule={schedule} />}</div>
      <ConfirmDialog
        isOpen={confirmDelete}
        title={t('delete.title', { name: schedule.name })}
        confirmLabel={t('actions.delete')}
        danger
        busy={remove.isPending}
        onCancel={() => setConfirmDelete(false)}
        onConfirm={() => remove.mutate(schedule.id, { onSettled: () => setConfirmDelete(false) })}
      >
        <p>{t('delete.body')}</p>
      </ConfirmDialog>
    </article>
  );
}
