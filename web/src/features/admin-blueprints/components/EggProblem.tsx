import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '@/components/States';
import { ApiError } from '@/lib/errors';

/** Why an egg was refused. A malformed egg names the failing field (`variables[2].rules`) and the
 * API's reason (in English: it quotes the egg's own keys); anything else is the usual sentence. */
export function EggProblem({ error }: { error: unknown }) {
  const { t } = useTranslation('adminBlueprints');
  const fields = error instanceof ApiError && Array.isArray(error.details.fields) ? (error.details.fields as { field?: string }[]) : [];
  const field = fields[0]?.field;
  if (!(error instanceof ApiError) || error.code !== 'VALIDATION_ERROR' || !field) return <ErrorAlert error={error} />;
  return (
    <div role="alert" className="alert" data-tone="error">
      <p>{t('import.refusedAt', { field })}</p>
      <p lang="en">
        <code className="wrap">{error.message}</code>
      </p>
    </div>
  );
}
