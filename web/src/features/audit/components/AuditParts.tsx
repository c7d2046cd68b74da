import { useTranslation } from 'react-i18next';
import { SelectField, TextField } from '@/components/Field';
import { Loading } from '@/components/States';

type Result = '' | 'success' | 'denied' | 'error';
export type AuditDraft = { action: string; actor: string; result: Result; fromLocal: string; toLocal: string };

/**
 * The filter fields both audit logs have (the tenant's and the operator's): action, actor, result and
 * the time range. Texts come from `ns`'s `filters.*` and `result.*` keys.
 */
export function AuditFilterFields<D extends AuditDraft>({ ns, draft, onChange }: { ns: string; draft: D; onChange: (d: D) => void }) {
  const { t } = useTranslation(ns);
  return (
    <>
      <TextField label={t('filters.action')} hint={t('filters.actionHint')} value={draft.action} onChange={(e) => onChange({ ...draft, action: e.target.value })} />
      <TextField label={t('filters.actor')} hint={t('filters.actorHint')} value={draft.actor} onChange={(e) => onChange({ ...draft, actor: e.target.value })} />
      <SelectField label={t('filters.result')} value={draft.result} onChange={(e) => onChange({ ...draft, result: e.target.value as Result })}>
        <option value="">{t('filters.any')}</option>
        <option value="success">{t('result.success')}</option>
        <option value="denied">{t('result.denied')}</option>
        <option value="error">{t('result.error')}</option>
      </SelectField>
      <TextField label={t('filters.from')} type="datetime-local" value={draft.fromLocal} onChange={(e) => onChange({ ...draft, fromLocal: e.target.value })} />
      <TextField label={t('filters.to')} type="datetime-local" value={draft.toLocal} onChange={(e) => onChange({ ...draft, toLocal: e.target.value })} />
    </>
  );
}

/** Below an audit table: a page the filters left empty says so, and "more" reads the next page. */
export function AuditMore({
  ns,
  emptyPage,
  fetching,
  hasNext,
  onMore,
}: {
  ns: string;
  emptyPage: boolean;
  fetching: boolean;
  hasNext: boolean;
  onMore: () => void;
}) {
  const { t } = useTranslation(ns);
  return (
    <>
      {emptyPage && <p className="muted">{t('emptyPage')}</p>}
      {fetching && <Loading />}
      {hasNext && (
        <button type="button" className="button" data-variant="secondary" disabled={fetching} onClick={onMore}>
          {t('more')}
        </button>
      )}
    </>
  );
}
