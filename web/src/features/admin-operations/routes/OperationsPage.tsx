import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import { SelectField, TextField } from '@/components/Field';
import { FilterActions } from '@/components/FilterActions';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading } from '@/components/States';
import type { CsvColumn } from '@/lib/csv';
import { formatDate } from '@/lib/format';
import { isoToLocal, localToIso } from '@/features/members/api/members';
import {
  fetchOperationsPage,
  NO_OPERATION_FILTERS,
  OPERATION_STATUSES,
  useAdminOperations,
  type AdminOperation,
  type OperationFilters,
} from '../api/operations';
import { useOperationNames } from '../components/names';

/** The step that failed (or is running), for the list's one-line summary. */
export function currentStep(op: AdminOperation): string | null {
  const step = op.steps.find((s) => s.status === 'failed') ?? op.steps.find((s) => s.status === 'running');
  return step ? step.name : null;
}

function toFilters(params: URLSearchParams): OperationFilters {
  const status = params.get('status') ?? '';
  return {
    status: (OPERATION_STATUSES as readonly string[]).includes(status) ? (status as OperationFilters['status']) : '',
    type: params.get('type') ?? '',
    since: params.get('since') ?? '',
  };
}

function toDraft(filters: OperationFilters) {
  return { status: filters.status, type: filters.type, sinceLocal: isoToLocal(filters.since) };
}

/** Every tenant's workflows, newest first: running and failed ones with their steps; export as CSV. */
export function OperationsPage() {
  const { t } = useTranslation('adminOperations');
  const names = useOperationNames();
  // The filters live in the address (?status=&type=&since=): the overview links to the failed ones.
  const [params, setParams] = useSearchParams();
  const filters = toFilters(params);
  const shown = params.toString();
  const [draft, setDraft] = useState(toDraft(filters));
  useEffect(() => setDraft(toDraft(toFilters(new URLSearchParams(shown)))), [shown]);
  const setFilters = (next: OperationFilters) => setParams(Object.fromEntries(Object.entries(next).filter(([, v]) => v)));
  const operations = useAdminOperations(filters);
  const rows = operations.data?.pages.flatMap((p) => p.items) ?? [];

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({ status: draft.status, type: draft.type.trim(), since: localToIso(draft.sinceLocal) ?? '' });
  };
  const columns: CsvColumn<AdminOperation>[] = [
    { header: t('columns.id'), value: (o) => o.id },
    { header: t('columns.type'), value: (o) => o.type },
    { header: t('columns.status'), value: (o) => o.status },
    { header: t('columns.tenant'), value: (o) => o.tenant_id },
    { header: t('columns.target'), value: (o) => o.target },
    { header: t('columns.attempt'), value: (o) => o.attempt },
    { header: t('columns.step'), value: (o) => currentStep(o) },
    { header: t('columns.errorCode'), value: (o) => o.error?.code },
    { header: t('columns.error'), value: (o) => o.error?.message },
    { header: t('columns.created'), value: (o) => o.created_at },
    { header: t('columns.updated'), value: (o) => o.updated_at },
  ];

  return (
    <>
      <PageTitle>{t('list.title')}</PageTitle>
      <p>
        {t('list.intro')} <Link to="/admin/dead-letters">{t('list.deadLettersLink')}</Link>
      </p>
      <form className="card" onSubmit={apply} aria-label={t('filters.title')} noValidate>
        <h2>{t('filters.title')}</h2>
        <div className="grid">
          <SelectField label={t('filters.status')} value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value as OperationFilters['status'] })}>
            <option value="">{t('filters.any')}</option>
            {OPERATION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </SelectField>
          <TextField label={t('filters.type')} hint={t('filters.typeHint')} value={draft.type} onChange={(e) => setDraft({ ...draft, type: e.target.value })} />
          <TextField label={t('filters.since')} type="datetime-local" value={draft.sinceLocal} onChange={(e) => setDraft({ ...draft, sinceLocal: e.target.value })} />
        </div>
        <FilterActions
          applyLabel={t('filters.apply')}
          clearLabel={t('filters.clear')}
          onClear={() => {
            setDraft({ status: '', type: '', sinceLocal: '' }); setFilters(NO_OPERATION_FILTERS);
          }}
        >
          <button type="button" className="button" data-variant="secondary" disabled={operations.isFetching} onClick={() => void operations.refetch()}>
            {t('list.refresh')}
          </button>
          <ExportCsvButton filename="operations" columns={columns} fetchPage={(cursor) => fetchOperationsPage(filters, cursor)} />
        </FilterActions>
      </form>

      {operations.isPending ? (
        <Loading label={t('list.loading')} />
      ) : operations.isError ? (
        <ErrorAlert error={operations.error} onRetry={() => void operations.refetch()} />
      ) : rows.length === 0 && !operations.hasNextPage ? (
        <Empty>{t('list.empty')}</Empty>
      ) : (
        <>
          <table>
            <caption className="visually-hidden">{t('list.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('columns.type')}</th>
                <th scope="col">{t('columns.status')}</th>
                <th scope="col">{t('columns.tenant')}</th>
                <th scope="col">{t('columns.step')}</th>
                <th scope="col">{t('columns.error')}</th>
                <th scope="col">{t('columns.created')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((o) => (
                <tr key={o.id}>
                  <th scope="row">
                    <Link to={`/admin/operations/${o.id}`}>{names.type(o.type)}</Link>
                    <br />
                    <code className="muted">{o.id}</code>
                  </th>
                  <td>
                    <span className="badge" data-status={o.status === 'succeeded' ? 'running' : o.status}>
                      {t(`status.${o.status}`)}
                    </span>
                    {o.attempt > 1 && <span className="muted"> {t('list.attempt', { attempt: o.attempt })}</span>}
                  </td>
                  <td>{o.tenant_id === 'platform' ? t('list.platform') : <Link to={`/admin/tenants/${o.tenant_id}`}>{o.tenant_id}</Link>}</td>
                  <td>{names.step(currentStep(o) ?? '–')}</td>
                  <td>{o.error ? names.error(o.error) : '–'}</td>
                  <td>{formatDate(o.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 && <p className="muted">{t('list.emptyPage')}</p>}
          {operations.isFetchingNextPage && <Loading />}
          {operations.hasNextPage && (
            <button type="button" className="button" data-variant="secondary" disabled={operations.isFetchingNextPage} onClick={() => void operations.fetchNextPage()}>
              {t('list.more')}
            </button>
          )}
        </>
      )}
    </>
  );
}
