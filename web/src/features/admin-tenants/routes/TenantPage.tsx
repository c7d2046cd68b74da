import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import '../admin-tenants.css';
import { TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { CreditTable } from '@/features/billing/components/CreditTable';
import { InvoiceTable } from '@/features/billing/components/InvoiceTable';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { formatBytes, formatDate, formatMegabytes, formatMoney, formatNumber } from '@/lib/format';
import {
  fetchCreditsPage,
  fetchInvoicesPage,
  fetchMembersPage,
  fetchServersPage,
  useAdminTenant,
  useExportTenant,
  useGrantCredit,
  useSetTenantSuspended,
  useTenantBilling,
  useTenantCredits,
  useTenantInvoices,
  useTenantMembers,
  useTenantServers,
  type AdminTenant,
} from '../api/tenants';

/** One tenant for the operator: profile, suspend/unsuspend, export, members, servers, billing, credits, invoices. */
export function TenantPage() {
  const { tenantId = '' } = useParams();
  const { t } = useTranslation('adminTenants');
  const tenant = useAdminTenant(tenantId);
  if (tenant.isPending) return <Loading />;
  if (tenant.isError) return <ErrorAlert error={tenant.error} onRetry={() => void tenant.refetch()} />;
  return (
    <>
      <PageTitle>{tenant.data.name}</PageTitle>
      <p>
        <Link to="/admin/tenants">{t('detail.back')}</Link> ·{' '}
        <Link to={`/admin/audit?tenant_id=${encodeURIComponent(tenantId)}`}>{t('detail.auditLink')}</Link> ·{' '}
        <Link to={`/admin/servers?tenant_id=${encodeURIComponent(tenantId)}`}>{t('detail.serversLink')}</Link>
      </p>
      <Profile tenant={tenant.data} />
      <Members tenantId={tenantId} />
      <Servers tenantId={tenantId} />
      <BillingSection tenantId={tenantId} />
      <Credits tenantId={tenantId} />
      <Invoices tenantId={tenantId} />
    </>
  );
}

function Profile({ tenant }: { tenant: AdminTenant }) {
  const { t } = useTranslation('adminTenants');
  const suspend = useSetTenantSuspended(tenant.id);
  const exporter = useExportTenant(tenant.id);
  const [asking, setAsking] = useState(false);
  const suspended = tenant.status === 'suspended';
  return (
    <section className="card" aria-labelledby="profile-heading">
      <h2 id="profile-heading">{t('detail.profile')}</h2>
      <dl className="admin-facts">
        <dt>{t('columns.id')}</dt>
        <dd>
          <code>{tenant.id}</code>
        </dd>
        <dt>{t('columns.status')}</dt>
        <dd>
          <span className="badge" data-status={suspended ? 'failed' : 'running'}>
            {t(`status.${tenant.status}`, { defaultValue: tenant.status })}
          </span>
        </dd>
        <dt>{t('columns.owners')}</dt>
        <dd>{tenant.owner_count ?? '–'}</dd>
        <dt>{t('detail.require2fa')}</dt>
        <dd>{tenant.require_2fa ? t('yes') : t('no')}</dd>
        <dt>{t('columns.created')}</dt>
        <dd>{formatDate(tenant.created_at)}</dd>
      </dl>
      <div className="button-row">
        <button
          type="button"
          className="button"
          data-variant={suspended ? undefined : 'danger'}
          disabled={suspend.isPending}
          onClick={() => setAsking(true)}
        >
          {suspended ? t('detail.unsuspend') : t('detail.suspend')}
        </button>
        <button type="button" className="button" data-variant="secondary" disabled={exporter.isPending} onClick={() => exporter.mutate()}>
          {exporter.isPending ? t('export.working') : t('export.start')}
        </button>
      </div>
      {suspend.isError && <ErrorAlert error={suspend.error} />}
      {suspend.isSuccess && (
        <Notice tone="success">{suspended ? t('detail.suspendedNotice') : t('detail.unsuspendedNotice')}</Notice>
      )}
      {exporter.isError && <ErrorAlert error={exporter.error} />}
      {exporter.data && (
        <Notice tone="success">
          <p>
            {t('export.done', {
              count: Object.values(exporter.data.counts).reduce((a, b) => a + b, 0),
              size: formatBytes(exporter.data.size_bytes),
            })}
          </p>
          <p>
            <a href={exporter.data.url} download>
              {t('export.download')}
            </a>{' '}
            <span className="muted">{t('export.expires', { minutes: Math.round(exporter.data.expires_in / 60) })}</span>
          </p>
        </Notice>
      )}
      <ConfirmDialog
        isOpen={asking}
        title={suspended ? t('detail.unsuspendTitle', { name: tenant.name }) : t('detail.suspendTitle', { name: tenant.name })}
        confirmLabel={suspended ? t('detail.unsuspend') : t('detail.suspend')}
        danger={!suspended}
        busy={suspend.isPending}
        onCancel={() => setAsking(false)}
        onConfirm={() => suspend.mutate(!suspended, { onSettled: () => setAsking(false) })}
      >
        <p>{suspended ? t('detail.unsuspendText') : t('detail.suspendText')}</p>
      </ConfirmDialog>
    </section>
  );
}

function Members({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('adminTenants');
  const members = useTenantMembers(tenantId);
  return (
    <section aria-labelledby="members-heading">
      <h2 id="members-heading">{t('members.title')}</h2>
      <ExportCsvButton
        filename={`tenant-${tenantId}-members`}
        fetchPage={(cursor) => fetchMembersPage(tenantId, cursor)}
        columns={[
          { header: t('members.email'), value: (m) => m.email },
          { header: t('members.name'), value: (m) => m.name },
          { header: t('members.role'), value: (m) => m.role },
          { header: t('members.scope'), value: (m) => m.server_id },
          { header: 'user_id', value: (m) => m.user_id },
        ]}
      />
      {members.isPending ? (
        <Loading />
      ) : members.isError ? (
        <ErrorAlert error={members.error} onRetry={() => void members.refetch()} />
      ) : members.data.items.length === 0 ? (
        <Empty>{t('members.empty')}</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('members.email')}</th>
              <th scope="col">{t('members.name')}</th>
              <th scope="col">{t('members.role')}</th>
              <th scope="col">{t('members.scope')}</th>
            </tr>
          </thead>
          <tbody>
            {members.data.items.map((m) => (
              <tr key={m.user_id}>
                <th scope="row">
                  <Link to={`/admin/users/${m.user_id}`}>{m.email ?? m.user_id}</Link>
                </th>
                <td>{m.name ?? '–'}</td>
                <td>{m.role}</td>
                <td>{m.server_id ? <code>{m.server_id}</code> : t('members.wholeTenant')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Servers({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('adminTenants');
  const servers = useTenantServers(tenantId);
  return (
    <section aria-labelledby="servers-heading">
      <h2 id="servers-heading">{t('servers.title')}</h2>
      <ExportCsvButton
        filename={`tenant-${tenantId}-servers`}
        fetchPage={(cursor) => fetchServersPage(tenantId, cursor)}
        columns={[
          { header: 'uuid', value: (s) => s.uuid },
          { header: t('servers.name'), value: (s) => s.name },
          { header: t('servers.status'), value: (s) => s.status },
          { header: t('servers.node'), value: (s) => s.node.name ?? s.node.id },
          { header: t('servers.memory'), value: (s) => s.memory_mb },
          { header: t('servers.disk'), value: (s) => s.disk_mb },
        ]}
      />
      {servers.isPending ? (
        <Loading />
      ) : servers.isError ? (
        <ErrorAlert error={servers.error} onRetry={() => void servers.refetch()} />
      ) : servers.data.items.length === 0 ? (
        <Empty>{t('servers.empty')}</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('servers.name')}</th>
              <th scope="col">{t('servers.status')}</th>
              <th scope="col">{t('servers.node')}</th>
              <th scope="col">{t('servers.memory')}</th>
              <th scope="col">{t('servers.disk')}</th>
            </tr>
          </thead>
          <tbody>
            {servers.data.items.map((s) => (
              <tr key={s.uuid}>
                <th scope="row">
                  <Link to={`/admin/servers/${s.uuid}`}>{s.name}</Link>
                </th>
                <td>
                  <span className="badge" data-status={s.status}>
                    {t(`servers:status.${s.status}`, { defaultValue: s.status })}
                  </span>
                </td>
                <td>{s.node.name ?? s.node.id}</td>
                <td>{formatMegabytes(s.memory_mb)}</td>
                <td>{formatMegabytes(s.disk_mb)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function BillingSection({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('adminTenants');
  const billing = useTenantBilling(tenantId);
  return (
    <section className="card" aria-labelledby="billing-heading">
      <h2 id="billing-heading">{t('billing.title')}</h2>
      {billing.isPending ? (
        <Loading />
      ) : billing.isError ? (
        <ErrorAlert error={billing.error} onRetry={() => void billing.refetch()} />
      ) : (
        <>
          <dl className="admin-facts">
            <dt>{t('billing.plan')}</dt>
            <dd>{billing.data.plan.name}</dd>
            <dt>{t('billing.status')}</dt>
            <dd>{t(`billing:status.${billing.data.status}`, { defaultValue: billing.data.status })}</dd>
            <dt>{t('billing.state')}</dt>
            <dd>{t(`status.${billing.data.billing_state}`)}</dd>
            {billing.data.current_period_end != null && (
              <>
                <dt>{t('billing.periodEnd')}</dt>
                <dd>{formatDate(billing.data.current_period_end * 1000)}</dd>
              </>
            )}
          </dl>
          <h3>{t('billing.quotas')}</h3>
          <ul>
            <li>{t('billing.quota.servers', { count: billing.data.quotas.servers })}</li>
            <li>{t('billing.quota.memory', { value: formatMegabytes(billing.data.quotas.memory_mb) })}</li>
            <li>{t('billing.quota.disk', { value: formatMegabytes(billing.data.quotas.disk_mb) })}</li>
            <li>{t('billing.quota.backups', { value: formatBytes(billing.data.quotas.backup_bytes) })}</li>
          </ul>
          <h3>{t('billing.usage', { since: formatDate(billing.data.usage.since * 1000) })}</h3>
          <ul>
            {Object.entries(billing.data.usage.metrics).map(([metric, value]) => (
              <li key={metric}>
                {t(`billing.metric.${metric}`, { defaultValue: metric })}: {formatNumber(value, { maximumFractionDigits: 2 })}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function Credits({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('adminTenants');
  const credits = useTenantCredits(tenantId);
  const grant = useGrantCredit(tenantId);
  const [amount, setAmount] = useState('');
  const [currency, setCurrency] = useState('');
  const [reason, setReason] = useState('');
  const errors = fieldErrors(grant.error, t);
  const shownCurrency = currency || credits.data?.currency || 'usd';

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const cents = Math.round(Number(amount.replace(',', '.')) * 100);
    grant.mutate(
      { amount_cents: cents, currency: shownCurrency.toLowerCase(), reason: reason.trim() },
      {
        onSuccess: () => {
          setAmount('');
          setReason('');
        },
      },
    );
  };

  return (
    <section className="card" aria-labelledby="credits-heading">
      <h2 id="credits-heading">{t('credits.title')}</h2>
      {credits.isPending ? (
        <Loading />
      ) : credits.isError ? (
        <ErrorAlert error={credits.error} onRetry={() => void credits.refetch()} />
      ) : (
        <>
          <p>
            {t('credits.balance', {
              amount: formatMoney(credits.data.balance_cents, credits.data.currency ?? 'usd'),
            })}
          </p>
          <form onSubmit={submit} noValidate aria-labelledby="grant-heading">
            <h3 id="grant-heading">{t('credits.grant')}</h3>
            <TextField
              label={t('credits.amount')}
              hint={t('credits.amountHint')}
              inputMode="decimal"
              required
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
              error={errors.amount_cents}
            />
            <TextField
              label={t('credits.currency')}
              hint={t('credits.currencyHint')}
              maxLength={3}
              value={shownCurrency}
              disabled={Boolean(credits.data.currency)}
              onChange={(e) => setCurrency(e.target.value)}
              error={errors.currency}
            />
            <TextField label={t('credits.reason')} maxLength={200} value={reason} onChange={(e) => setReason(e.target.value)} error={errors.reason} />
            {grant.isError && Object.keys(errors).length === 0 && <ErrorAlert error={grant.error} />}
            {grant.isSuccess && <Notice tone="success">{t('credits.granted')}</Notice>}
            <button type="submit" className="button" disabled={grant.isPending || !(Number(amount.replace(',', '.')) > 0)}>
              {t('credits.submit')}
            </button>
          </form>
          <ExportCsvButton
            filename={`tenant-${tenantId}-credits`}
            fetchPage={(cursor) => fetchCreditsPage(tenantId, cursor)}
            columns={[
              { header: t('credits.when'), value: (c) => c.created_at },
              { header: 'amount_cents', value: (c) => c.amount_cents },
              { header: t('credits.currency'), value: (c) => c.currency },
              { header: t('credits.source'), value: (c) => c.source },
              { header: t('credits.reason'), value: (c) => c.reason },
            ]}
          />
          {credits.data.items.length === 0 ? (
            <p className="muted">{t('credits.empty')}</p>
          ) : (
            <CreditTable items={credits.data.items} caption={t('credits.history')} />
          )}
        </>
      )}
    </section>
  );
}

function Invoices({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('adminTenants');
  const invoices = useTenantInvoices(tenantId);
  return (
    <section aria-labelledby="invoices-heading">
      <h2 id="invoices-heading">{t('invoices.title')}</h2>
      <ExportCsvButton
        filename={`tenant-${tenantId}-invoices`}
        fetchPage={(cursor) => fetchInvoicesPage(tenantId, cursor)}
        columns={[
          { header: t('invoices.number'), value: (i) => i.number ?? i.id },
          { header: t('invoices.date'), value: (i) => new Date(i.created * 1000).toISOString() },
          { header: t('invoices.status'), value: (i) => i.status },
          { header: 'amount_due_cents', value: (i) => i.amount_due },
          { header: 'currency', value: (i) => i.currency },
          { header: t('invoices.link'), value: (i) => i.hosted_invoice_url },
        ]}
      />
      {invoices.isPending ? (
        <Loading />
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
