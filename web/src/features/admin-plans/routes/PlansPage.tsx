import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import { Pager } from '@/components/Pager';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import type { CsvColumn } from '@/lib/csv';
import { formatBytes, formatMegabytes, formatMoney, formatNumber } from '@/lib/format';
import { fetchPlansPage, isUnlimited, useCreatePlan, usePlans, useUpdatePlan, type Plan } from '../api/plans';
import { PlanForm } from '../components/PlanForm';
import '../plans.css';

type Editing = { mode: 'create' } | { mode: 'edit'; plan: Plan } | null;

/** Every plan with its price, quotas and state; create, change and archive (or restore) plans. */
export function PlansPage() {
  const { t } = useTranslation('adminPlans');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const list = usePlans(cursors[cursors.length - 1]);
  const [editing, setEditing] = useState<Editing>(null);
  const [done, setDone] = useState('');
  const [archiving, setArchiving] = useState<Plan | null>(null);
  const update = useUpdatePlan();
  const columns: CsvColumn<Plan>[] = [
    { header: 'id', value: (p) => p.id },
    { header: 'name', value: (p) => p.name },
    { header: 'active', value: (p) => p.active },
    { header: 'amount_cents', value: (p) => p.amount_cents },
    { header: 'currency', value: (p) => p.currency },
    { header: 'interval', value: (p) => p.interval },
    { header: 'price_id', value: (p) => p.price_id },
    { header: 'metered', value: (p) => p.metered.map((m) => `${m.metric}=${m.price_id}`).join(' ') },
    { header: 'servers', value: (p) => p.quotas.servers },
    { header: 'memory_mb', value: (p) => p.quotas.memory_mb },
    { header: 'disk_mb', value: (p) => p.quotas.disk_mb },
    { header: 'backup_bytes', value: (p) => p.quotas.backup_bytes },
    { header: 'backups_per_server', value: (p) => p.quotas.backups_per_server },
    { header: 'grace_days', value: (p) => p.grace_days },
    { header: 'updated_at', value: (p) => p.updated_at },
  ];

  const setActive = (plan: Plan, active: boolean) =>
    update.mutate(
      { id: plan.id, body: { active } },
      {
        onSuccess: () => setDone(t(active ? 'list.restored' : 'list.archived', { name: plan.name })),
        onSettled: () => setArchiving(null),
      },
    );

  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <p className="muted">{t('intro')}</p>
      <div className="button-row">
        <button
          type="button"
          className="button"
          onClick={() => {
            setDone('');
            setEditing({ mode: 'create' });
          }}
        >
          {t('list.create')}
        </button>
        <ExportCsvButton filename="plans" columns={columns} fetchPage={fetchPlansPage} />
      </div>
      {done && <Notice tone="success">{done}</Notice>}
      {editing && (
        <Editor
          key={editing.mode === 'edit' ? editing.plan.id : 'new'}
          editing={editing}
          onDone={(message) => {
            setEditing(null);
            setDone(message);
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      {update.isError && <ErrorAlert error={update.error} />}
      {list.isPending ? (
        <Loading />
      ) : list.isError && !list.data ? (
        <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 && cursors.length === 1 ? (
        <Empty>{t('list.empty')}</Empty>
      ) : (
        <>
          {list.isError && <ErrorAlert error={list.error} />}
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">{t('list.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('columns.name')}</th>
                  <th scope="col">{t('columns.price')}</th>
                  <th scope="col">{t('columns.quotas')}</th>
                  <th scope="col">{t('columns.state')}</th>
                  <th scope="col">{t('columns.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((plan) => (
                  <tr key={plan.id}>
                    <th scope="row">
                      {plan.name}
                      <br />
                      <span className="muted">{plan.id}</span>
                    </th>
                    <td>
                      {t(`perInterval.${plan.interval}`, { price: formatMoney(plan.amount_cents, plan.currency) })}
                      {plan.price_id && (
                        <>
                          <br />
                          <code className="muted">{plan.price_id}</code>
                        </>
                      )}
                      {plan.metered.map((m) => (
                        <span key={m.metric} className="hint-line muted">
                          {t(`metric.${m.metric}`)}: <code>{m.price_id}</code>
                        </span>
                      ))}
                    </td>
                    <td>
                      <QuotaSummary plan={plan} />
                    </td>
                    <td>
                      <span className="badge" data-status={plan.active ? 'running' : 'offline'}>
                        {t(plan.active ? 'state.active' : 'state.archived')}
                      </span>
                    </td>
                    <td>
                      <div className="button-row">
                        <button
                          type="button"
                          className="button"
                          data-variant="secondary"
                          aria-label={t('list.editNamed', { name: plan.name })}
                          onClick={() => {
                            setDone('');
                            setEditing({ mode: 'edit', plan });
                          }}
                        >
                          {t('list.edit')}
                        </button>
                        {plan.active ? (
                          <button
                            type="button"
                            className="button"
                            data-variant="secondary"
                            aria-label={t('list.archiveNamed', { name: plan.name })}
                            disabled={update.isPending}
                            onClick={() => setArchiving(plan)}
                          >
                            {t('list.archive')}
                          </button>
                        ) : (
                          <button
                            type="button"
                            className="button"
                            data-variant="secondary"
                            aria-label={t('list.restoreNamed', { name: plan.name })}
                            disabled={update.isPending}
                            onClick={() => setActive(plan, true)}
                          >
                            {t('list.restore')}
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager cursors={cursors} next={list.data.next_cursor} onChange={setCursors} />
        </>
      )}
      <ConfirmDialog
        isOpen={archiving !== null}
        title={t('archive.title', { name: archiving?.name ?? '' })}
        confirmLabel={t('list.archive')}
        danger
        busy={update.isPending}
        onCancel={() => setArchiving(null)}
        onConfirm={() => archiving && setActive(archiving, false)}
      >
        <p>{t('archive.text', { name: archiving?.name ?? '' })}</p>
      </ConfirmDialog>
    </>
  );
}

function QuotaSummary({ plan }: { plan: Plan }) {
  const { t } = useTranslation('adminPlans');
  const q = plan.quotas;
  const show = (value: number, format: (v: number) => string) => (isUnlimited(value) ? t('quotas.unlimited') : format(value));
  return (
    <ul className="plain">
      <li>{t('summary.servers', { value: show(q.servers, formatNumber) })}</li>
      <li>{t('summary.memory', { value: show(q.memory_mb, formatMegabytes) })}</li>
      <li>{t('summary.disk', { value: show(q.disk_mb, formatMegabytes) })}</li>
      <li>{t('summary.backups', { value: show(q.backup_bytes, formatBytes), per: show(q.backups_per_server, formatNumber) })}</li>
    </ul>
  );
}

/** The create or edit form in its own section; its heading takes focus when it opens. */
function Editor({ editing, onDone, onCancel }: { editing: NonNullable<Editing>; onDone: (message: string) => void; onCancel: () => void }) {
  const { t } = useTranslation('adminPlans');
  const create = useCreatePlan();
  const update = useUpdatePlan();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const plan = editing.mode === 'edit' ? editing.plan : undefined;
  const mutation = plan ? update : create;
  return (
    <section className="card" aria-labelledby="plan-form-heading">
      <h2 id="plan-form-heading" ref={heading} tabIndex={-1}>
        {plan ? t('form.editTitle', { name: plan.name }) : t('form.createTitle')}
      </h2>
      <PlanForm
        plan={plan}
        headingId="plan-form-heading"
        busy={mutation.isPending}
        error={mutation.error}
        onCancel={onCancel}
        onSubmit={(body) => {
          if (plan) {
            const { id: _id, ...changes } = body;
            update.mutate({ id: plan.id, body: changes }, { onSuccess: (saved) => onDone(t('form.saved', { name: saved.name })) });
          } else {
            create.mutate(body, { onSuccess: (saved) => onDone(t('form.created', { name: saved.name })) });
          }
        }}
      />
    </section>
  );
}
