import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '@/components/States';
import { ApiError } from '@/lib/errors';

/** Why an egg was refused: the sentence for the code, and for a malformed egg the field the API named. */
export function EggProblem({ error }: { error: unknown }) {
  const { t } = useTranslation('adminBlueprints');
  const fields = error instanceof ApiError && Array.isArray(error.details.fields) ? (error.details.fields as { field?: string }[]) : [];
  const field = fields[0]?.field;
  return (
    <>
      <ErrorAlert error={error} />
      {field && error instanceof ApiError && (
        <p className="field-error">
          {t('import.refusedAt', { field })} <span lang="en">{error.message}</span>
        </p>
      )}
    </>
  );
}
