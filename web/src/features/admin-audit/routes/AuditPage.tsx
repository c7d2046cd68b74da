import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import { SelectField, TextField } from '@/components/Field';
import { FilterActions } from '@/components/FilterActions';
import { PageTitle } from '@/components/PageTitle';
import { AuditFilterFields, AuditMore } from '@/features/audit/components/AuditParts';
import { Empty, ErrorAlert, Loading } from '@/components/States';
import type { CsvColumn } from '@/lib/csv';
import { formatDate } from '@/lib/format';
import { isoToLocal, localToIso } from '@/features/members/api/members';
import { fetchAuditPage, NO_AUDIT_FILTERS, usePlatformAudit, type AuditEntry, type PlatformAuditFilters } from '../api/audit';
import '../admin-audit.css';

type Draft = PlatformAuditFilters & { fromLocal: string; toLocal: string };
const EMPTY_DRAFT: Draft = { ...NO_AUDIT_FILTERS, fromLocal: '', toLocal: '' };

const RESULTS = ['success', 'denied', 'error'] as const;

function toFilters(params: URLSearchParams): PlatformAuditFilters {
  const result = params.get('result') ?? '';
  return {
    log: params.get('log') === 'security' ? 'security' : 'platform',
    tenant_id: params.get('tenant_id') ?? '',
    action: params.get('action') ?? '',
    actor: params.get('actor') ?? '',
    result: (RESULTS as readonly string[]).includes(result) ? (result as PlatformAuditFilters['result']) : '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
  };
}

function toDraft(filters: PlatformAuditFilters): Draft {
  return { ...filters, fromLocal: isoToLocal(filters.from), toLocal: isoToLocal(filters.to) };
}

/** The platform's audit log (accounts, admin actions), the security log, or one tenant's log. */
export function AuditPage() {
  const { t, i18n } = useTranslation('adminAudit');
  // The filters live in the address (?tenant_id=&log=&action=...): a tenant's page links to its log.
  const [params, setParams] = useSearchParams();
  const filters = toFilters(params);
  const shownParams = params.toString();
  const [draft, setDraft] = useState<Draft>(toDraft(filters));
  useEffect(() => setDraft(toDraft(toFilters(new URLSearchParams(shownParams)))), [shownParams]);
  const setFilters = (next: PlatformAuditFilters) =>
    setParams(Object.fromEntries(Object.entries(next).filter(([key, v]) => v && !(key === 'log' && v === 'platform'))));
  const audit = usePlatformAudit(filters);
  const entries = audit.data?.pages.flatMap((p) => p.items) ?? [];

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({
      log: draft.log,
      tenant_id: draft.tenant_id.trim(),
      action: draft.action.trim(),
      actor: draft.actor.trim(),
      result: draft.result,
      from: localToIso(draft.fromLocal) ?? '',
      to: localToIso(draft.toLocal) ?? '',
    });
  };
  const columns: CsvColumn<AuditEntry>[] = [
    { header: t('columns.at'), value: (e) => e.at },
    { header: t('columns.action'), value: (e) => e.action },
    { header: t('columns.actor'), value: (e) => e.actor.user_id },
    { header: t('columns.via'), value: (e) => e.actor.via },
    { header: t('columns.tenant'), value: (e) => e.tenant_id },
    { header: t('columns.result'), value: (e) => e.result },
    { header: t('columns.status'), value: (e) => e.status },
    { header: t('columns.errorCode'), value: (e) => e.error_code },
    { header: t('columns.target'), value: (e) => e.target },
    { header: t('columns.ip'), value: (e) => e.ip },
    { header: t('columns.requestId'), value: (e) => e.request_id },
  ];
  const shown = filters.tenant_id ? t('shown.tenant', { tenant: filters.tenant_id }) : t(`shown.${filters.log}`);

  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <p>{t('intro')}</p>
      <form className="card" onSubmit={apply} aria-label={t('filters.title')} noValidate>
        <h2>{t('filters.title')}</h2>
        <div className="grid">
          <SelectField label={t('filters.log')} hint={t('filters.logHint')} value={draft.log} disabled={Boolean(draft.tenant_id.trim())} onChange={(e) => setDraft({ ...draft, log: e.target.value as Draft['log'] })}>
            <option value="platform">{t('log.platform')}</option>
            <option value="security">{t('log.security')}</option>
          </SelectField>
          <TextField label={t('filters.tenant')} hint={t('filters.tenantHint')} value={draft.tenant_id} onChange={(e) => setDraft({ ...draft, tenant_id: e.target.value })} />
          <AuditFilterFields ns="adminAudit" draft={draft} onChange={setDraft} />
        </div>
        <FilterActions
          applyLabel={t('filters.apply')}
          clearLabel={t('filters.clear')}
          onClear={() => {
            setDraft(EMPTY_DRAFT); setFilters(NO_AUDIT_FILTERS);
          }}
        >
          <ExportCsvButton filename="audit" columns={columns} fetchPage={(cursor) => fetchAuditPage(filters, cursor)} />
        </FilterActions>
      </form>

      <h2>{shown}</h2>
      {audit.isPending ? (
        <Loading label={t('loading')} />
      ) : audit.isError ? (
        <ErrorAlert error={audit.error} onRetry={() => void audit.refetch()} />
      ) : entries.length === 0 && !audit.hasNextPage ? (
        <Empty>{t('empty')}</Empty>
      ) : (
        <>
          <table className="admin-audit-table">
            <caption className="visually-hidden">{t('caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('columns.at')}</th>
                <th scope="col">{t('columns.action')}</th>
                <th scope="col">{t('columns.actor')}</th>
                <th scope="col">{t('columns.tenant')}</th>
                <th scope="col">{t('columns.result')}</th>
                <th scope="col">{t('columns.target')}</th>
                <th scope="col">{t('columns.ip')}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td>{formatDate(e.at)}</td>
                  <th scope="row">
                    <code>{e.action}</code>
                  </th>
                  <td>
                    {e.actor.user_id ? <Link to={`/admin/users/${e.actor.user_id}`}>{e.actor.user_id}</Link> : t('system')}
                    {e.actor.via && <span className="muted"> ({i18n.exists(`adminAudit:via.${e.actor.via}`) ? t(`via.${e.actor.via}`) : e.actor.via})</span>}
                  </td>
                  <td>{e.tenant_id ? <Link to={`/admin/tenants/${e.tenant_id}`}>{e.tenant_id}</Link> : '–'}</td>
                  <td>
                    <span className="badge" data-status={e.result === 'success' ? 'running' : 'failed'}>
                      {t(`result.${e.result}`)}
                    </span>
                    {e.status ? <span className="muted"> {e.status}</span> : null}
                    {e.error_code ? <span className="muted"> {e.error_code}</span> : null}
                  </td>
                  <td>
                    <code>{e.target ?? '–'}</code>
                  </td>
                  <td>{e.ip ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <AuditMore
            ns="adminAudit"
            emptyPage={entries.length === 0}
            fetching={audit.isFetchingNextPage}
            hasNext={audit.hasNextPage}
            onMore={() => void audit.fetchNextPage()}
          />
        </>
      )}
    </>
  );
}
