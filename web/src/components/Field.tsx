import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';

interface Common {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
}

interface Described {
  id: string;
  'aria-invalid': true | undefined;
  'aria-describedby': string | undefined;
}

/** The label, hint and error around one control, tied to it (aria-describedby, aria-invalid). */
function FieldShell({ label, hint, error, id, control }: Common & { id: string | undefined; control: (a: Described) => ReactNode }) {
  const auto = useId();
  const controlId = id ?? auto;
  const hintId = hint ? `${controlId}-hint` : undefined;
  const errorId = error ? `${controlId}-error` : undefined;
  return (
    <div className="field">
      <label htmlFor={controlId}>{label}</label>
      {control({
        id: controlId,
        'aria-invalid': error ? true : undefined,
        'aria-describedby': [hintId, errorId].filter(Boolean).join(' ') || undefined,
      })}
      {hint && (
        <span id={hintId} className="hint">
          {hint}
        </span>
      )}
      {error && (
        <span id={errorId} className="field-error">
          {error}
        </span>
      )}
    </div>
  );
}

/** A labelled input with its hint and its error tied to it. */
export function TextField({ label, hint, error, id, ...input }: Common & InputHTMLAttributes<HTMLInputElement>) {
  return <FieldShell label={label} hint={hint} error={error} id={id} control={(a) => <input {...a} {...input} />} />;
}

/** A labelled select with its hint and its error tied to it. */
export function SelectField({
  label,
  hint,
  error,
  id,
  children,
  ...select
}: Common & SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <FieldShell
      label={label}
      hint={hint}
      error={error}
      id={id}
      control={(a) => (
        <select {...a} {...select}>
          {children}
        </select>
      )}
    />
  );
}
