import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { SelectField, TextField } from '@/components/Field';
import { FilterActions } from '@/components/FilterActions';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading } from '@/components/States';
import { formatDate } from '@/lib/format';
import { localToIso } from '@/features/members/api/members';
import { useAudit, type AuditEntry, type AuditFilters } from '../api/audit';

const none: AuditFilters = { action: '', actor: '', result: '', from: '', to: '' };

/** The tenant's audit log: who did what, when, and whether it was allowed. */
export function AuditPage() {
  const { tenantId = '' } = useParams();
  const { t } = useTranslation('audit');
  const [draft, setDraft] = useState({ ...none, fromLocal: '', toLocal: '' });
  const [filters, setFilters] = useState<AuditFilters>(none);
  const audit = useAudit(tenantId, filters);
  const entries = audit.data?.pages.flatMap((p) => p.items) ?? [];

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({
      action: draft.action.trim(),
      actor: draft.actor.trim(),
      result: draft.result,
      from: localToIso(draft.fromLocal) ?? '',
      to: localToIso(draft.toLocal) ?? '',
    });
  };

  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <p>
        <Link to={`/t/${tenantId}/members`}>{t('membersLink')}</Link>
      </p>
      <form className="card" onSubmit={apply} aria-label={t('filters.title')} noValidate>
        <h2>{t('filters.title')}</h2>
        <div className="grid">
          <TextField label={t('filters.action')} hint={t('filters.actionHint')} value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })} />
          <TextField label={t('filters.actor')} hint={t('filters.actorHint')} value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} />
          <SelectField label={t('filters.result')} value={draft.result} onChange={(e) => setDraft({ ...draft, result: e.target.value as AuditFilters['result'] })}>
            <option value="">{t('filters.any')}</option>
            <option value="success">{t('result.success')}</option>
            <option value="denied">{t('result.denied')}</option>
            <option value="error">{t('result.error')}</option>
          </SelectField>
          <TextField label={t('filters.from')} type="datetime-local" value={draft.fromLocal} onChange={(e) => setDraft({ ...draft, fromLocal: e.target.value })} />
          <TextField label={t('filters.to')} type="datetime-local" value={draft.toLocal} onChange={(e) => setDraft({ ...draft, toLocal: e.target.value })} />
        </div>
        <FilterActions
          applyLabel={t('filters.apply')}
          clearLabel={t('filters.clear')}
          onClear={() => {
            setDraft({ ...none, fromLocal: '', toLocal: '' }); setFilters(none);
          }}
        />
      </form>

      {audit.isPending ? (
        <Loading label={t('loading')} />
      ) : audit.isError ? (
        <ErrorAlert error={audit.error} onRetry={() => void audit.refetch()} />
      ) : entries.length === 0 && !audit.hasNextPage ? (
        <Empty>{t('empty')}</Empty>
      ) : (
        <>
          <table>
            <caption className="visually-hidden">{t('caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('columns.at')}</th>
                <th scope="col">{t('columns.action')}</th>
                <th scope="col">{t('columns.actor')}</th>
                <th scope="col">{t('columns.result')}</th>
                <th scope="col">{t('columns.target')}</th>
                <th scope="col">{t('columns.ip')}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <Row key={e.id} entry={e} />
              ))}
            </tbody>
          </table>
          {entries.length === 0 && <p className="muted">{t('emptyPage')}</p>}
          {audit.isFetchingNextPage && <Loading />}
          {audit.hasNextPage && (
            <button type="button" className="button" data-variant="secondary" disabled={audit.isFetchingNextPage} onClick={() => void audit.fetchNextPage()}>
              {t('more')}
            </button>
          )}
        </>
      )}
    </>
  );
}

function Row({ entry }: { entry: AuditEntry }) {
  const { t } = useTranslation('audit');
  return (
    <tr>
      <td>{formatDate(entry.at)}</td>
      <th scope="row">
        <code>{entry.action}</code>
      </th>
      <td>
        {entry.actor.user_id ?? t('system')}
        {entry.actor.via && <span className="muted"> ({t(`via.${entry.actor.via}`, { defaultValue: entry.actor.via })})</span>}
      </td>
      <td>
        <span className="badge" data-status={entry.result === 'success' ? 'running' : 'failed'}>
          {t(`result.${entry.result}`)}
        </span>
        {entry.status ? <span className="muted"> {entry.status}</span> : null}
      </td>
      <td>
        <code>{entry.target ?? '–'}</code>
      </td>
      <td>{entry.ip ?? '–'}</td>
    </tr>
  );
}
