import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { formatBytes, formatMegabytes, formatMoney, formatNumber } from '@/lib/format';
import { usePlans, useServers, useUsage } from '@/features/servers/api/servers';
import { StatusBadge } from '@/features/servers/components/StatusBadge';
import { useTenant } from '@/features/tenants/api/tenants';
import { KeptBackupsNotice } from '@/features/backups/components/KeptBackupsNotice';

type Use = { used: number; limit: number; unlimited: boolean };

function QuotaRow({ label, use, format }: { label: string; use: Use; format: (n: number) => string }) {
  const { t } = useTranslation();
  return (
    <div>
      <dt>{label}</dt>
      <dd>
        {use.unlimited
          ? t('dashboard:quota.unlimited', { used: format(use.used) })
          : t('dashboard:quota.of', { used: format(use.used), limit: format(use.limit) })}
        {!use.unlimited && use.limit > 0 && (
          <meter min={0} max={use.limit} value={use.used} high={use.limit * 0.9} aria-label={label} />
        )}
      </dd>
    </div>
  );
}

const PROBLEMS = new Set(['install_failed', 'offline_unexpected', 'suspended']);

export function Dashboard() {
  const { t } = useTranslation();
  const { tenantId = '' } = useParams();
  const tenant = useTenant(tenantId);
  const servers = useServers(tenantId);
  const usage = useUsage(tenantId);
  const plans = usePlans();

  if (tenant.isPending) return <Loading />;
  if (tenant.isError) return <ErrorAlert error={tenant.error} onRetry={() => tenant.refetch()} />;
  const plan = plans.data?.items.find((p) => p.id === usage.data?.plan_id);
  const items = servers.data?.items ?? [];
  const problems = items.filter((s) => PROBLEMS.has(s.status) || s.suspended);

  return (
    <>
      <PageTitle>{tenant.data.name}</PageTitle>
      {tenant.data.status === 'suspended' && <Notice tone="error">{t('dashboard:suspended')}</Notice>}
      {problems.length > 0 && (
        <Notice tone="warning">{t('dashboard:problems', { count: problems.length, names: problems.map((s) => s.name).join(', ') })}</Notice>
      )}
      <KeptBackupsNotice tenantId={tenantId} />
      <section aria-labelledby="servers-heading">
        <div className="button-row">
          <h2 id="servers-heading">{t('dashboard:servers.title')}</h2>
          <Link className="button" to={`/t/${tenantId}/servers/new`}>
            {t('dashboard:servers.create')}
          </Link>
        </div>
        {servers.isPending && <Loading />}
        {servers.isError && <ErrorAlert error={servers.error} onRetry={() => servers.refetch()} />}
        {servers.isSuccess && items.length === 0 && <Empty>{t('dashboard:servers.empty')}</Empty>}
        {items.length > 0 && (
          <table>
            <caption className="visually-hidden">{t('dashboard:servers.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('dashboard:servers.name')}</th>
                <th scope="col">{t('dashboard:servers.status')}</th>
                <th scope="col">{t('dashboard:servers.memory')}</th>
                <th scope="col">{t('dashboard:servers.address')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link to={`/t/${tenantId}/servers/${s.id}`}>{s.name}</Link>
                  </td>
                  <td>
                    <StatusBadge status={s.status} />
                  </td>
                  <td>{formatMegabytes(s.limits.memory_mb)}</td>
                  <td>
                    {s.allocation.ip}:{s.allocation.port}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="plan-heading" className="card">
        <h2 id="plan-heading">{t('dashboard:plan.title')}</h2>
        {usage.isPending && <Loading />}
        {usage.isError && <ErrorAlert error={usage.error} onRetry={() => usage.refetch()} />}
        {usage.data && (
          <>
            <p>
              {plan
                ? plan.free
                  ? t('dashboard:plan.free', { name: plan.name })
                  : t('dashboard:plan.paid', {
                      name: plan.name,
                      price: formatMoney(plan.amount_cents, plan.currency),
                      interval: t(`dashboard:plan.interval.${plan.interval}`),
                    })
                : t('dashboard:plan.unknown', { id: usage.data.plan_id })}
            </p>
            <dl className="stats">
              <QuotaRow label={t('dashboard:quota.servers')} use={usage.data.servers} format={(n) => formatNumber(n)} />
              <QuotaRow label={t('dashboard:quota.memory')} use={usage.data.memory_mb} format={formatMegabytes} />
              <QuotaRow label={t('dashboard:quota.disk')} use={usage.data.disk_mb} format={formatMegabytes} />
              <QuotaRow label={t('dashboard:quota.backups')} use={usage.data.backup_bytes} format={formatBytes} />
            </dl>
          </>
        )}
      </section>
    </>
  );
}
