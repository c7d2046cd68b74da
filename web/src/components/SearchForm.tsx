import { useState, type FormEvent, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { TextField } from './Field';

/**
 * A list's search box whose query lives in the address (`?q=`), so a search can be linked and
 * survives a reload. `children` go beside the button (say, the list's CSV export).
 */
export function useSearchQuery(): [string, (q: string) => void] {
  const [params, setParams] = useSearchParams();
  return [params.get('q') ?? '', (q: string) => setParams(q.trim() ? { q: q.trim() } : {})];
}

export function SearchForm({
  query,
  onSearch,
  label,
  hint,
  formLabel,
  submitLabel,
  children,
}: {
  query: string;
  onSearch: (q: string) => void;
  label: string;
  hint?: string;
  formLabel: string;
  submitLabel: string;
  children?: ReactNode;
}) {
  const [draft, setDraft] = useState(query);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(draft);
  };
  return (
    <form className="button-row" role="search" aria-label={formLabel} onSubmit={submit}>
      <TextField label={label} hint={hint} type="search" value={draft} maxLength={64} onChange={(e) => setDraft(e.target.value)} />
      <button type="submit" className="button">
        {submitLabel}
      </button>
      {children}
    </form>
  );
}
