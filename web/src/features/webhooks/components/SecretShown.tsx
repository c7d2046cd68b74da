import { useTranslation } from 'react-i18next';
import { ShownOnce } from '@/components/ShownOnce';

/** The signing secret, shown once after creating a webhook or replacing its secret. */
export function SecretShown({ secret, onDone }: { secret: string; onDone: () => void }) {
  const { t } = useTranslation('webhooks');
  return (
    <ShownOnce
      title={t('secret.title')}
      secret={secret}
      testId="webhook-secret"
      once={t('secret.once')}
      copyLabel={t('secret.copy')}
      doneLabel={t('secret.done')}
      onDone={onDone}
    />
  );
}
