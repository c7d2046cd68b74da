import type { ReactNode } from 'react';

/** A filter form's buttons: apply (the form's submit), clear, then the list's own (CSV, refresh). */
export function FilterActions({
  applyLabel,
  clearLabel,
  onClear,
  children,
}: {
  applyLabel: string;
  clearLabel: string;
  onClear: () => void;
  children?: ReactNode;
}) {
  return (
    <div className="button-row">
      <button type="submit" className="button">
        {applyLabel}
      </button>
      <button type="button" className="button" data-variant="secondary" onClick={onClear}>
        {clearLabel}
      </button>
      {children}
    </div>
  );
}
