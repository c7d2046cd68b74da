import { useTranslation } from 'react-i18next';
import { ErrorAlert, Notice } from '@/components/States';
import { PasskeyCancelled, passkeysSupported, usePasskeySignIn } from '../api/passkeys';

/** "Sign in with a passkey" on the sign-in page: no email, no password; the passkey names the account. */
export function PasskeySignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const { t } = useTranslation('passkeys');
  const signIn = usePasskeySignIn();
  if (!passkeysSupported()) return null;
  return (
    <div className="passkey-sign-in">
      <p className="muted">{t('signIn.or')}</p>
      {signIn.isError &&
        (signIn.error instanceof PasskeyCancelled ? <Notice tone="info">{t('signIn.cancelled')}</Notice> : <ErrorAlert error={signIn.error} />)}
      <div className="button-row">
        <button
          type="button"
          className="button"
          data-variant="secondary"
          disabled={signIn.isPending}
          onClick={() => signIn.mutate(undefined, { onSuccess: onSignedIn })}
        >
          {signIn.isPending ? t('signIn.working') : t('signIn.button')}
        </button>
      </div>
    </div>
  );
}
