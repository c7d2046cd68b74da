import { useId, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { SelectField, TextField } from '@/components/Field';
import { ErrorAlert } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import type { Cron, Schedule, ScheduleBody, Task } from '../api/schedules';

/** Cron presets a person picks instead of typing five fields; "custom" keeps the fields as typed. */
export const PRESETS: Record<string, Cron> = {
  daily4: { minute: '0', hour: '4', day_of_month: '*', month: '*', day_of_week: '*' },
  hourly: { minute: '0', hour: '*', day_of_month: '*', month: '*', day_of_week: '*' },
  every15: { minute: '*/15', hour: '*', day_of_month: '*', month: '*', day_of_week: '*' },
  weeklyMonday6: { minute: '0', hour: '6', day_of_month: '*', month: '*', day_of_week: '1' },
  monthlyFirst3: { minute: '0', hour: '3', day_of_month: '1', month: '*', day_of_week: '*' },
};
const FIELDS = ['minute', 'hour', 'day_of_month', 'month', 'day_of_week'] as const;
const ACTIONS = ['command', 'power', 'backup'] as const;
const POWER = ['start', 'stop', 'restart', 'kill'] as const;

export const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

function zones(current: string): string[] {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return Array.from(new Set(['UTC', current, ...all])).sort();
}

const newTask = (): Task => ({ action: 'command', payload: '', time_offset_seconds: 0, continue_on_failure: false });

const presetOf = (cron: Cron): string =>
  Object.entries(PRESETS).find(([, p]) => (Object.keys(p) as (keyof Cron)[]).every((f) => p[f] === cron[f]))?.[0] ?? 'custom';

/** The schedule form: a name, a cron preset (or the five fields), the time zone, and the tasks.
 * Without `schedule` it makes a new one; with it, it edits that one (all fields sent). */
export function ScheduleForm({
  schedule,
  busy,
  error,
  disabled,
  onSubmit,
  onCancel,
}: {
  schedule?: Schedule;
  busy: boolean;
  error: unknown;
  disabled: boolean;
  onSubmit: (body: ScheduleBody, done: () => void) => void;
  onCancel?: () => void;
}) {
  const { t } = useTranslation('schedules');
  const titleId = useId();
  const [name, setName] = useState(schedule?.name ?? '');
  const [preset, setPreset] = useState(schedule ? presetOf(schedule.cron) : 'daily4');
  const [cron, setCron] = useState<Cron>(schedule?.cron ?? PRESETS.daily4!);
  const [timezone, setTimezone] = useState(schedule?.timezone ?? browserZone());
  const [onlyWhenOnline, setOnlyWhenOnline] = useState(schedule?.only_when_online ?? false);
  const [tasks, setTasks] = useState<Task[]>(schedule?.tasks ?? [newTask()]);
  const errors = fieldErrors(error, t);
  const zoneList = useMemo(() => zones(timezone), [timezone]);

  const choosePreset = (value: string) => {
    setPreset(value);
    const chosen = PRESETS[value];
    if (chosen) setCron(chosen);
  };
  const setTask = (index: number, change: Partial<Task>) =>
    setTasks((all) => all.map((task, i) => (i === index ? { ...task, ...change } : task)));
  const reset = () => {
    setName('');
    choosePreset('daily4');
    setTasks([newTask()]);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const enabled = schedule?.enabled ?? true;
    onSubmit({ name: name.trim(), cron, timezone, enabled, only_when_online: onlyWhenOnline, tasks }, schedule ? () => undefined : reset);
  };

  return (
    <form className="card" onSubmit={submit} aria-labelledby={titleId} noValidate>
      {schedule ? <h4 id={titleId}>{t('form.editTitle', { name: schedule.name })}</h4> : <h2 id={titleId}>{t('form.title')}</h2>}
      <TextField label={t('form.name')} value={name} maxLength={100} required onChange={(e) => setName(e.target.value)} error={errors.name} />
      <SelectField label={t('form.preset')} hint={t('form.presetHint')} value={preset} onChange={(e) => choosePreset(e.target.value)}>
        {Object.keys(PRESETS).map((key) => (
          <option key={key} value={key}>
            {t(`presets.${key}`)}
          </option>
        ))}
        <option value="custom">{t('presets.custom')}</option>
      </SelectField>
      <fieldset className="cron-fields">
        <legend>{t('form.cron')}</legend>
        {FIELDS.map((field) => (
          <TextField
            key={field}
            label={t(`cron.${field}`)}
            value={cron[field]}
            maxLength={100}
            onChange={(e) => {
              setPreset('custom');
              setCron({ ...cron, [field]: e.target.value });
            }}
            error={errors[`cron.${field}`] ?? (field === 'minute' ? errors.cron : undefined)}
          />
        ))}
        <p className="hint">{t('form.cronHint')}</p>
      </fieldset>
      <SelectField label={t('form.timezone')} value={timezone} onChange={(e) => setTimezone(e.target.value)} error={errors.timezone}>
        {zoneList.map((zone) => (
          <option key={zone} value={zone}>
            {zone}
          </option>
        ))}
      </SelectField>
      <div className="field">
        <label>
          <input type="checkbox" checked={onlyWhenOnline} onChange={(e) => setOnlyWhenOnline(e.target.checked)} /> {t('form.onlyWhenOnline')}
        </label>
        <span className="hint">{t('form.onlyWhenOnlineHint')}</span>
      </div>

      <h3>{t('form.tasks')}</h3>
      <ol className="task-list">
        {tasks.map((task, index) => (
          <li key={index} className="card">
            <fieldset>
              <legend>{t('form.task', { n: index + 1 })}</legend>
              <SelectField
                label={t('form.action')}
                value={task.action}
                onChange={(e) => {
                  const action = e.target.value as Task['action'];
                  setTask(index, { action, payload: action === 'power' ? 'restart' : '' });
                }}
                error={errors[`tasks.${index}.action`]}
              >
                {ACTIONS.map((a) => (
                  <option key={a} value={a}>
                    {t(`actions.${a}`)}
                  </option>
                ))}
              </SelectField>
              {task.action === 'power' ? (
                <SelectField label={t('form.powerAction')} value={task.payload ?? 'restart'} onChange={(e) => setTask(index, { payload: e.target.value })}>
                  {POWER.map((p) => (
                    <option key={p} value={p}>
                      {t(`power.${p}`)}
                    </option>
                  ))}
                </SelectField>
              ) : (
                <TextField
                  label={task.action === 'command' ? t('form.command') : t('form.backupName')}
                  value={task.payload ?? ''}
                  maxLength={task.action === 'command' ? 1024 : 100}
                  onChange={(e) => setTask(index, { payload: e.target.value })}
                  error={errors[`tasks.${index}.payload`]}
                />
              )}
              <TextField
                label={t('form.offset')}
                hint={t('form.offsetHint')}
                type="number"
                min={0}
                max={900}
                value={String(task.time_offset_seconds ?? 0)}
                onChange={(e) => setTask(index, { time_offset_seconds: Number(e.target.value) || 0 })}
                error={errors[`tasks.${index}.time_offset_seconds`]}
              />
              <div className="field">
                <label>
                  <input
                    type="checkbox"
                    checked={task.continue_on_failure ?? false}
                    onChange={(e) => setTask(index, { continue_on_failure: e.target.checked })}
                  />{' '}
                  {t('form.continueOnFailure')}
                </label>
              </div>
              {tasks.length > 1 && (
                <button type="button" className="button" data-variant="secondary" onClick={() => setTasks((all) => all.filter((_, i) => i !== index))}>
                  {t('form.removeTask', { n: index + 1 })}
                </button>
              )}
            </fieldset>
          </li>
        ))}
      </ol>
      <div className="button-row">
        <button type="button" className="button" data-variant="secondary" disabled={tasks.length >= 10} onClick={() => setTasks((all) => [...all, newTask()])}>
          {t('form.addTask')}
        </button>
        <button type="submit" className="button" disabled={busy || disabled}>
          {busy ? t('form.saving') : schedule ? t('form.save') : t('form.submit')}
        </button>
        {onCancel && (
          <button type="button" className="button" data-variant="secondary" onClick={onCancel}>
            {t('common:actions.cancel')}
          </button>
        )}
      </div>
      {error !== null && error !== undefined && Object.keys(errors).length === 0 && <ErrorAlert error={error} />}
    </form>
  );
}
