import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { SelectField, TextField } from '@/components/Field';
import { ErrorAlert } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { GIB, fromMinorUnits, toMinorUnits, type MeteredPrice, type Plan, type PlanCreate } from '../api/plans';

type Metric = MeteredPrice['metric'];
const METRICS: Metric[] = ['ram_gb_hours', 'backup_gb_hours'];
const QUOTAS = ['servers', 'memory_mb', 'disk_mb', 'backup_gib', 'backups_per_server', 'schedules_per_server'] as const;
type QuotaField = (typeof QUOTAS)[number];

export interface PlanDraft {
  id: string;
  name: string;
  amount: string;
  currency: string;
  interval: 'month' | 'year';
  price_id: string;
  grace_days: string;
  quotas: Record<QuotaField, string>;
  metered: Record<Metric, { price_id: string; event_name: string }>;
}

export function draftOf(plan?: Plan): PlanDraft {
  const metered = (metric: Metric) => plan?.metered.find((m) => m.metric === metric);
  const backup = plan ? plan.quotas.backup_bytes : 10 * GIB;
  return {
    id: plan?.id ?? '',
    name: plan?.name ?? '',
    amount: plan ? fromMinorUnits(plan.amount_cents) : '0.00',
    currency: plan?.currency ?? 'usd',
    interval: plan?.interval ?? 'month',
    price_id: plan?.price_id ?? '',
    grace_days: String(plan?.grace_days ?? 7),
    quotas: {
      servers: String(plan?.quotas.servers ?? 1),
      memory_mb: String(plan?.quotas.memory_mb ?? 2048),
      disk_mb: String(plan?.quotas.disk_mb ?? 10240),
      backup_gib: backup < 0 ? '-1' : String(Math.round((backup / GIB) * 100) / 100),
      backups_per_server: String(plan?.quotas.backups_per_server ?? 3),
      schedules_per_server: String(plan?.quotas.schedules_per_server ?? 10),
    },
    metered: {
      ram_gb_hours: { price_id: metered('ram_gb_hours')?.price_id ?? '', event_name: metered('ram_gb_hours')?.event_name ?? '' },
      backup_gb_hours: { price_id: metered('backup_gb_hours')?.price_id ?? '', event_name: metered('backup_gb_hours')?.event_name ?? '' },
    },
  };
}

/** The request body of a draft (numbers parsed; a metered price only when its price id is filled in). */
export function bodyOf(d: PlanDraft): PlanCreate {
  const backup = Number(d.quotas.backup_gib);
  return {
    id: d.id.trim(),
    name: d.name.trim(),
    amount_cents: toMinorUnits(d.amount),
    currency: d.currency.trim().toLowerCase(),
    interval: d.interval,
    price_id: d.price_id.trim() || null,
    grace_days: Number(d.grace_days),
    quotas: {
      servers: Number(d.quotas.servers),
      memory_mb: Number(d.quotas.memory_mb),
      disk_mb: Number(d.quotas.disk_mb),
      backup_bytes: backup < 0 ? -1 : Math.round(backup * GIB),
      backups_per_server: Number(d.quotas.backups_per_server),
      schedules_per_server: Number(d.quotas.schedules_per_server),
    },
    metered: METRICS.filter((m) => d.metered[m].price_id.trim()).map((m) => ({
      metric: m,
      price_id: d.metered[m].price_id.trim(),
      event_name: d.metered[m].event_name.trim() || `gs_${m}`,
    })),
  };
}

/** Create or change a plan: name, the price as shown with its Stripe price ids, quotas, grace period. */
export function PlanForm({
  plan,
  busy,
  error,
  onSubmit,
  onCancel,
  headingId,
}: {
  plan?: Plan;
  busy: boolean;
  error: unknown;
  onSubmit: (body: PlanCreate) => void;
  onCancel?: () => void;
  headingId: string;
}) {
  const { t } = useTranslation('adminPlans');
  const [d, setD] = useState<PlanDraft>(() => draftOf(plan));
  const errors = fieldErrors(error, t);
  const editing = plan !== undefined;
  const amountInvalid = Number.isNaN(toMinorUnits(d.amount));
  const setQuota = (q: QuotaField, value: string) => setD({ ...d, quotas: { ...d.quotas, [q]: value } });
  const setMetered = (m: Metric, change: Partial<{ price_id: string; event_name: string }>) =>
    setD({ ...d, metered: { ...d.metered, [m]: { ...d.metered[m], ...change } } });
  const quotaError = (q: QuotaField) => errors[`quotas.${q === 'backup_gib' ? 'backup_bytes' : q}`];

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (amountInvalid) return;
    onSubmit(bodyOf(d));
  };

  return (
    <form onSubmit={submit} noValidate aria-labelledby={headingId}>
      <div className="form-columns">
        {!editing && (
          <TextField
            label={t('form.id')}
            hint={t('form.idHint')}
            required
            spellCheck={false}
            value={d.id}
            onChange={(e) => setD({ ...d, id: e.target.value })}
            error={errors.id}
          />
        )}
        <TextField label={t('form.name')} required value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} error={errors.name} />
      </div>

      <fieldset className="plan-fieldset">
        <legend>{t('form.pricing')}</legend>
        <div className="form-columns">
          <TextField
            label={t('form.amount')}
            hint={t('form.amountHint')}
            inputMode="decimal"
            value={d.amount}
            onChange={(e) => setD({ ...d, amount: e.target.value })}
            error={amountInvalid ? t('form.amountInvalid') : errors.amount_cents}
          />
          <TextField
            label={t('form.currency')}
            hint={t('form.currencyHint')}
            maxLength={3}
            spellCheck={false}
            value={d.currency}
            onChange={(e) => setD({ ...d, currency: e.target.value })}
            error={errors.currency}
          />
          <SelectField label={t('form.interval')} value={d.interval} onChange={(e) => setD({ ...d, interval: e.target.value as PlanDraft['interval'] })}>
            <option value="month">{t('interval.month')}</option>
            <option value="year">{t('interval.year')}</option>
          </SelectField>
        </div>
        <TextField
          label={t('form.priceId')}
          hint={t('form.priceIdHint')}
          spellCheck={false}
          value={d.price_id}
          onChange={(e) => setD({ ...d, price_id: e.target.value })}
          error={errors.price_id}
        />
        {METRICS.map((m) => (
          <div className="form-columns" key={m}>
            <TextField
              label={t(`form.metered.${m}.price`)}
              hint={t('form.meteredHint')}
              spellCheck={false}
              value={d.metered[m].price_id}
              onChange={(e) => setMetered(m, { price_id: e.target.value })}
              error={errors[`metered.${m}`]}
            />
            <TextField
              label={t(`form.metered.${m}.event`)}
              hint={t('form.eventHint', { example: `gs_${m}` })}
              spellCheck={false}
              value={d.metered[m].event_name}
              onChange={(e) => setMetered(m, { event_name: e.target.value })}
            />
          </div>
        ))}
        {errors.metered && <p className="field-error">{errors.metered}</p>}
      </fieldset>

      <fieldset className="plan-fieldset">
        <legend>{t('form.quotas')}</legend>
        <p className="muted">{t('form.quotasHint')}</p>
        <div className="form-columns">
          {QUOTAS.map((q) => (
            <TextField
              key={q}
              label={t(`quotas.${q}`)}
              type="number"
              min={-1}
              step={q === 'backup_gib' ? 'any' : 1}
              value={d.quotas[q]}
              onChange={(e) => setQuota(q, e.target.value)}
              error={quotaError(q)}
            />
          ))}
          <TextField
            label={t('form.graceDays')}
            hint={t('form.graceDaysHint')}
            type="number"
            min={0}
            max={60}
            value={d.grace_days}
            onChange={(e) => setD({ ...d, grace_days: e.target.value })}
            error={errors.grace_days}
          />
        </div>
      </fieldset>

      {error != null && <ErrorAlert error={error} />}
      <div className="button-row">
        <button type="submit" className="button" disabled={busy || !d.name.trim() || (!editing && !d.id.trim())}>
          {busy ? t('form.saving') : editing ? t('form.save') : t('form.create')}
        </button>
        {onCancel && (
          <button type="button" className="button" data-variant="secondary" onClick={onCancel}>
            {t('form.cancel')}
          </button>
        )}
      </div>
    </form>
  );
}
