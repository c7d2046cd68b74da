import type { ReactNode } from 'react';
import { CopyButton } from '@/components/CopyButton';

/**
 * A secret the API shows once (an API key, a service account's key, a webhook's signing
 * secret): announced politely, copyable, and gone when dismissed.
 */
export function ShownOnce({
  title,
  secret,
  testId,
  once,
  copyLabel,
  doneLabel,
  onDone,
  children,
}: {
  title: string;
  secret: string;
  testId: string;
  once: string;
  copyLabel: string;
  doneLabel: string;
  onDone: () => void;
  children?: ReactNode;
}) {
  return (
    <div className="alert" data-tone="success" role="status">
      <p>{title}</p>
      <p>
        <code data-testid={testId}>{secret}</code>
      </p>
      <p>{once}</p>
      {children}
      <div className="button-row">
        <CopyButton value={secret} label={copyLabel} />
        <button type="button" className="button" data-variant="secondary" onClick={onDone}>
          {doneLabel}
        </button>
      </div>
    </div>
  );
}
