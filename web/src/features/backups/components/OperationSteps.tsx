import { useTranslation } from 'react-i18next';
import type { Operation } from '../api/backups';

/** Step names of the backup workflows ("backup.completed" becomes the key "backup_completed"). */
export function stepKey(name: string): string {
  return name.replace(/[^a-z0-9_]/gi, '_');
}

/**
 * The steps of a backup, restore or delete operation as they happen. A live region announces
 * changes; a failure names the failed step and the reason the API gave.
 */
export function OperationSteps({ operation }: { operation: Operation }) {
  const { t } = useTranslation('backups');
  const failed = operation.steps.find((s) => s.status === 'failed');
  return (
    <div aria-live="polite">
      <p>
        {t(`operation.${operation.status}`)}
        {operation.status === 'running' || operation.status === 'pending' ? (
          <span className="spinner" aria-hidden="true" />
        ) : null}
      </p>
      <ol className="steps">
        {operation.steps.map((step) => (
          <li key={step.name} data-status={step.status}>
            {t(`steps.${stepKey(step.name)}`, { defaultValue: step.name })}: {t(`stepStatus.${step.status}`)}
          </li>
        ))}
      </ol>
      {operation.status === 'failed' && (
        <div role="alert" className="alert" data-tone="error">
          <p>
            {failed
              ? t('operation.failedAt', { step: t(`steps.${stepKey(failed.name)}`, { defaultValue: failed.name }) })
              : t('operation.failedPlain')}
          </p>
          {(operation.error?.message || failed?.detail) && <p>{operation.error?.message ?? failed?.detail}</p>}
        </div>
      )}
    </div>
  );
}
