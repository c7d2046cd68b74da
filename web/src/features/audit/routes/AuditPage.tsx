import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { FilterActions } from '@/components/FilterActions';
import { PageTitle } from '@/components/PageTitle';
import { AuditFilterFields, AuditMore } from '@/features/audit/components/AuditParts';
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
          <AuditFilterFields ns="audit" draft={draft} onChange={setDraft} />
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
          <AuditMore
            ns="audit"
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
