import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError, isRetryable } from '@/lib/errors';

/** The loading state: a polite live region, so assistive technology hears it once. */
export function Loading({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <p role="status" className="muted">
      <span className="spinner" aria-hidden="true" /> {label ?? t('common:state.loading')}
    </p>
  );
}

/** The error state: the sentence for the error, and a retry where trying again can help. */
export function ErrorAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  return (
    <div role="alert" className="alert" data-tone="error">
      <p>{describeError(error, t)}</p>
      {onRetry && isRetryable(error) && (
        <button type="button" className="button" data-variant="secondary" onClick={onRetry}>
          {t('common:actions.retry')}
        </button>
      )}
    </div>
  );
}

export function Empty({ children, action }: { children: ReactNode; action?: ReactNode }) {
  return (
    <div className="card">
      <p>{children}</p>
      {action}
    </div>
  );
}

export function Notice({ tone, children }: { tone: 'success' | 'info' | 'warning' | 'error'; children: ReactNode }) {
  return (
    <div role={tone === 'error' ? 'alert' : 'status'} className="alert" data-tone={tone}>
      {children}
    </div>
  );
}
