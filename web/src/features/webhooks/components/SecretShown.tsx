import { useTranslation } from 'react-i18next';
import { CopyButton } from '@/components/CopyButton';

/** The signing secret, shown once after creating a webhook or replacing its secret. */
export function SecretShown({ secret, onDone }: { secret: string; onDone: () => void }) {
  const { t } = useTranslation('webhooks');
  return (
    <div className="alert" data-tone="success" role="status">
      <p>{t('secret.title')}</p>
      <p>
        <code data-testid="webhook-secret">{secret}</code>
      </p>
      <p>{t('secret.once')}</p>
      <div className="button-row">
        <CopyButton value={secret} label={t('secret.copy')} />
        <button type="button" className="button" data-variant="secondary" onClick={onDone}>
          {t('secret.done')}
        </button>
      </div>
    </div>
  );
}
