import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { components } from '@/api/schema';
import { ErrorAlert, Notice } from '@/components/States';
import { askForPasskey, PasskeyCancelled } from '../api/passkeys';

type Answer = components['schemas']['PasskeyAnswerIn'];

/** The second step of a password sign-in, answered with a passkey instead of an authenticator code. */
export function PasskeySecondFactor({ onAnswer, busy }: { onAnswer: (answer: Answer) => void; busy: boolean }) {
  const { t } = useTranslation('passkeys');
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ask = async () => {
    setAsking(true);
    setError(null);
    try {
      onAnswer(await askForPasskey());
    } catch (err) {
      setError(err);
    } finally {
      setAsking(false);
    }
  };
  return (
    <div className="passkey-second-factor">
      <p>{t('secondFactor.hint')}</p>
      {error !== null && (error instanceof PasskeyCancelled ? <Notice tone="info">{t('signIn.cancelled')}</Notice> : <ErrorAlert error={error} />)}
      <div className="button-row">
        <button type="button" className="button" disabled={asking || busy} onClick={() => void ask()}>
          {asking || busy ? t('secondFactor.working') : t('secondFactor.button')}
        </button>
      </div>
    </div>
  );
}
