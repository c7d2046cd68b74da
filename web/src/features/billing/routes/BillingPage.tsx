import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useParams, useSearchParams } from 'react-router';
import { TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { denied, useCan } from '@/features/roles/api/can';
import { formatBytes, formatDate, formatMegabytes, formatMoney, formatNumber } from '@/lib/format';
import {
  SUBSCRIBED,
  useBilling,
  useBuyCredit,
  useCheckout,
  useCredits,
  useInvoices,
  usePlans,
  usePortal,
  type Billing,
  type PublicPlan,
} from '../api/billing';
import '../billing.css';
import { CreditTable } from '../components/CreditTable';
import { InvoiceTable } from '../components/InvoiceTable';

/** Stripe sends people back to /tenants/<id>/billing (the API's return URL); the app's page is /t/<id>/billing. */
export function BillingReturn() {
  const { tenantId = '' } = useParams();
  const { search } = useLocation();
  return <Navigate to={`/t/${tenantId}/billing${search}`} replace />;
}

const epoch = (s: number) => formatDate(s * 1000);

/**
 * Credit is kept per currency (Stripe's customer balance is one currency), so each balance is
 * shown on its own, never summed: the tenant's credit currency first. Before the first credit
 * there are none, and the single balance (0) is shown in `currency`, else US dollars.
 */
function creditAmounts(balances: Record<string, number> | undefined, currency: string | null | undefined, single: number): string {
  const entries = Object.entries(balances ?? {});
  if (entries.length === 0) return formatMoney(single, currency ?? 'usd');
  entries.sort(([a], [b]) => (a === currency ? -1 : b === currency ? 1 : a.localeCompare(b)));
  return entries.map(([code, cents]) => formatMoney(cents, code)).join(', ');
}

/** Plan, status and the way out of a suspension; plans with Checkout; portal, invoices, credits. */
export function BillingPage() {
  const { tenantId = '' } = useParams();
  const { t } = useTranslation('billing');
  const [search] = useSearchParams();
  const returned = search.get('checkout');
  const credit = search.get('credit');
  const billing = useBilling(tenantId, { pollUntilPaid: returned === 'success' });

  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      {returned === 'success' && (
        <Notice tone="success">
          {billing.data && SUBSCRIBED.has(billing.data.status) ? t('return.active', { plan: billing.data.plan.name }) : t('return.waiting')}
        </Notice>
      )}
      {returned === 'canceled' && <Notice tone="info">{t('return.canceled')}</Notice>}
      {credit === 'success' && <Notice tone="success">{t('return.credit')}</Notice>}
      {credit === 'canceled' && <Notice tone="info">{t('return.creditCanceled')}</Notice>}
      {billing.isPending ? (
        <Loading label={t('loading')} />
      ) : billing.isError ? (
        <ErrorAlert error={billing.error} onRetry={() => void billing.refetch()} />
      ) : (
        <>
          <Summary tenantId={tenantId} billing={billing.data} />
          <Plans tenantId={tenantId} billing={billing.data} />
          <Invoices tenantId={tenantId} />
          <Credits tenantId={tenantId} />
        </>
      )}
    </>
  );
}

function Summary({ tenantId, billing }: { tenantId: string; billing: Billing }) {
  const { t } = useTranslation('billing');
  const portal = usePortal(tenantId);
  const hasAccount = SUBSCRIBED.has(billing.status) || billing.status === 'canceled';
  return (
    <section className="card" aria-labelledby="billing-summary">
      <h2 id="billing-summary">{t('summary.title')}</h2>
      {billing.billing_state === 'suspended' && (
        <div role="alert" className="alert" data-tone="error">
          <h3>{t('suspended.title')}</h3>
          <p>{t('suspended.body')}</p>
          <p>{t('suspended.wayOut')}</p>
          {billing.deletion_due_at && <p>{t('suspended.deletion', { when: epoch(billing.deletion_due_at) })}</p>}
          <button type="button" className="button" disabled={portal.isPending} onClick={() => portal.mutate('payment_method_update')}>
            {t('suspended.action')}
          </button>
        </div>
      )}
      {billing.billing_state !== 'suspended' && billing.status === 'past_due' && (
        <Notice tone="warning">
          {billing.grace_ends_at ? t('pastDue.until', { when: epoch(billing.grace_ends_at) }) : t('pastDue.plain')}
        </Notice>
      )}
      <dl className="billing-facts">
        <dt>{t('summary.plan')}</dt>
        <dd data-testid="current-plan">{billing.plan.name}</dd>
        <dt>{t('summary.status')}</dt>
        <dd>{t(`status.${billing.status}`, { defaultValue: billing.status })}</dd>
        {billing.current_period_end && (
          <>
            <dt>{billing.cancel_at_period_end ? t('summary.endsAt') : t('summary.renewsAt')}</dt>
            <dd>{epoch(billing.current_period_end)}</dd>
          </>
        )}
        <dt>{t('summary.credit')}</dt>
        <dd data-testid="credit-balance">{creditAmounts(billing.credit_balances, billing.credit_currency, billing.credit_balance_cents)}</dd>
      </dl>
      <h3>{t('summary.quotas')}</h3>
      <QuotaList quotas={billing.quotas} />
      <h3>{t('summary.usage')}</h3>
      {Object.keys(billing.usage.metrics).length === 0 ? (
        <p className="muted">{t('summary.noUsage')}</p>
      ) : (
        <ul>
          {Object.entries(billing.usage.metrics).map(([metric, value]) => (
            <li key={metric}>{t(`metrics.${metric}`, { value: formatNumber(value, { maximumFractionDigits: 2 }), defaultValue: `${metric}: ${value}` })}</li>
          ))}
        </ul>
      )}
      {hasAccount && (
        <>
          {portal.isError && <ErrorAlert error={portal.error} />}
          <button type="button" className="button" data-variant="secondary" disabled={portal.isPending} onClick={() => portal.mutate(undefined)}>
            {t('portal.open')}
          </button>
          <p className="hint">{t('portal.hint')}</p>
        </>
      )}
    </section>
  );
}

function QuotaList({ quotas }: { quotas: Billing['quotas'] }) {
  const { t } = useTranslation('billing');
  const show = (v: number, f: (n: number) => string) => (v < 0 ? t('quotas.unlimited') : f(v));
  return (
    <ul>
      <li>{t('quotas.servers', { value: show(quotas.servers, (n) => formatNumber(n)) })}</li>
      <li>{t('quotas.memory', { value: show(quotas.memory_mb, formatMegabytes) })}</li>
      <li>{t('quotas.disk', { value: show(quotas.disk_mb, formatMegabytes) })}</li>
      <li>{t('quotas.backupBytes', { value: show(quotas.backup_bytes, formatBytes) })}</li>
      <li>{t('quotas.backupsPerServer', { value: show(quotas.backups_per_server, (n) => formatNumber(n)) })}</li>
    </ul>
  );
}

function Plans({ tenantId, billing }: { tenantId: string; billing: Billing }) {
  const { t } = useTranslation('billing');
  const plans = usePlans();
  const checkout = useCheckout(tenantId);
  const portal = usePortal(tenantId);
  const subscribed = SUBSCRIBED.has(billing.status);
  const manage = !denied(useCan(tenantId), 'billing.manage');
  return (
    <section aria-labelledby="plans-heading">
      <h2 id="plans-heading">{t('plans.title')}</h2>
      {plans.isPending ? (
        <Loading label={t('plans.loading')} />
      ) : plans.isError ? (
        <ErrorAlert error={plans.error} onRetry={() => void plans.refetch()} />
      ) : plans.data.items.length === 0 ? (
        <Empty>{t('plans.empty')}</Empty>
      ) : (
        <>
          {!plans.data.billing_enabled && <Notice tone="info">{t('plans.disabled')}</Notice>}
          {!manage && <p className="hint">{t('permissions:denied', { permission: 'billing.manage' })}</p>}
          {(checkout.isError || portal.isError) && <ErrorAlert error={checkout.error ?? portal.error} />}
          <ul className="grid plan-list" aria-label={t('plans.title')}>
            {plans.data.items.map((plan) => (
              <PlanCard
                key={plan.id}
                plan={plan}
                current={plan.id === billing.plan.id}
                subscribed={subscribed}
                busy={checkout.isPending || portal.isPending}
                enabled={plans.data.billing_enabled && manage}
                onChoose={() => (subscribed ? portal.mutate('subscription_update') : checkout.mutate(plan.id))}
              />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function PlanCard({
  plan,
  current,
  subscribed,
  busy,
  enabled,
  onChoose,
}: {
  plan: PublicPlan;
  current: boolean;
  subscribed: boolean;
  busy: boolean;
  enabled: boolean;
  onChoose: () => void;
}) {
  const { t } = useTranslation('billing');
  return (
    <li className="card" aria-labelledby={`plan-${plan.id}`}>
      <h3 id={`plan-${plan.id}`}>{plan.name}</h3>
      <p>
        {plan.free
          ? t('plans.free')
          : t(`plans.price.${plan.interval}`, { price: formatMoney(plan.amount_cents, plan.currency) })}
      </p>
      {plan.metered.length > 0 && (
        <p className="muted">{t('plans.metered', { list: plan.metered.map((m) => t(`metricNames.${m}`)).join(', ') })}</p>
      )}
      <QuotaList quotas={plan.quotas} />
      {current ? (
        <p>
          <span className="badge" data-status="running">
            {t('plans.current')}
          </span>
        </p>
      ) : plan.free ? null : (
        <button
          type="button"
          className="button"
          disabled={busy || !enabled}
          aria-label={subscribed ? t('plans.changeNamed', { plan: plan.name }) : t('plans.chooseNamed', { plan: plan.name })}
          onClick={onChoose}
        >
          {subscribed ? t('plans.change') : t('plans.choose')}
        </button>
      )}
    </li>
  );
}

function Invoices({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('billing');
  const invoices = useInvoices(tenantId);
  return (
    <section aria-labelledby="invoices-heading">
      <h2 id="invoices-heading">{t('invoices.title')}</h2>
      {invoices.isPending ? (
        <Loading label={t('invoices.loading')} />
      ) : invoices.isError ? (
        <ErrorAlert error={invoices.error} onRetry={() => void invoices.refetch()} />
      ) : invoices.data.items.length === 0 ? (
        <Empty>{t('invoices.empty')}</Empty>
      ) : (
        <InvoiceTable items={invoices.data.items} />
      )}
    </section>
  );
}

function Credits({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('billing');
  const credits = useCredits(tenantId);
  const buy = useBuyCredit(tenantId);
  const [amount, setAmount] = useState('10');
  const errors = fieldErrors(buy.error, t);
  const cents = Math.round(Number(amount.replace(',', '.')) * 100);
  const valid = Number.isFinite(cents) && cents >= 100 && cents <= 1_000_000;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    // Credit is bought in the tenant's credit currency once it has one (another is 409 CURRENCY_MISMATCH).
    if (valid) buy.mutate({ amountCents: cents, currency: credits.data?.currency ?? 'usd' });
  };
  return (
    <section aria-labelledby="credits-heading">
      <h2 id="credits-heading">{t('credits.title')}</h2>
      {credits.isPending ? (
        <Loading label={t('credits.loading')} />
      ) : credits.isError ? (
        <ErrorAlert error={credits.error} onRetry={() => void credits.refetch()} />
      ) : (
        <>
          <p>{t('credits.balance', { amount: creditAmounts(credits.data.balances, credits.data.currency, credits.data.balance_cents) })}</p>
          {credits.data.items.length === 0 ? (
            <Empty>{t('credits.empty')}</Empty>
          ) : (
            <CreditTable items={credits.data.items} />
          )}
        </>
      )}
      <form className="card" onSubmit={submit} noValidate aria-labelledby="buy-credit">
        <h3 id="buy-credit">{t('credits.buy')}</h3>
        <TextField
          label={t('credits.buyAmount')}
          inputMode="decimal"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          hint={t('credits.buyHint')}
          error={errors.amount_cents ?? (amount && !valid ? t('credits.buyRange') : undefined)}
        />
        {buy.isError && !errors.amount_cents && <ErrorAlert error={buy.error} />}
        <button type="submit" className="button" data-variant="secondary" disabled={!valid || buy.isPending}>
          {t('credits.buySubmit')}
        </button>
      </form>
    </section>
  );
}
