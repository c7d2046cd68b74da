import { useTranslation } from 'react-i18next';

/** Previous/next over cursor pages (the cursor of each page is kept, so "previous" is exact). */
export function Pager({
  cursors,
  next,
  onChange,
}: {
  cursors: (string | undefined)[];
  next: string | null | undefined;
  onChange: (cursors: (string | undefined)[]) => void;
}) {
  const { t } = useTranslation('common');
  if (cursors.length === 1 && !next) return null;
  return (
    <div className="button-row">
      {cursors.length > 1 && (
        <button type="button" className="button" data-variant="secondary" onClick={() => onChange(cursors.slice(0, -1))}>
          {t('pager.previous')}
        </button>
      )}
      {next && (
        <button type="button" className="button" data-variant="secondary" onClick={() => onChange([...cursors, next])}>
          {t('pager.next')}
        </button>
      )}
    </div>
  );
}
