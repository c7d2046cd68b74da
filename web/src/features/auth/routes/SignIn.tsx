import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { TextField } from '@/components/Field';
import { ErrorAlert, Notice } from '@/components/States';
import { ApiError, fieldErrors } from '@/lib/errors';
import { PasskeySecondFactor } from '@/features/passkeys/components/PasskeySecondFactor';
import { PasskeySignIn } from '@/features/passkeys/components/PasskeySignIn';
import { useSignIn } from '../api/auth';
import { getSignInNotice, setSignInNotice } from '../api/session';
import { AuthLayout, safeNext } from '../components/AuthLayout';
import { ProviderButtons } from '../components/ProviderButtons';

export function SignIn() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const signIn = useSignIn();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  // Why the app ended the session itself (a password change), until the next sign in.
  const [notice] = useState(getSignInNotice);
  // An account with 2FA answers 401 with details.reason totp_required (no code sent) or
  // totp_invalid (a wrong code): then the code field appears and stays.
  const reason = signIn.error instanceof ApiError ? signIn.error.details.reason : undefined;
  const [askCode, setAskCode] = useState(false);
  if (!askCode && (reason === 'totp_required' || reason === 'totp_invalid' || reason === 'passkey_invalid')) setAskCode(true);
  // Which second factors the account has (details.methods of totp_required): a code, a passkey, or both.
  const [methods, setMethods] = useState<string[]>(['totp']);
  const given = signIn.error instanceof ApiError ? signIn.error.details.methods : undefined;
  if (Array.isArray(given) && given.join() !== methods.join()) setMethods(given.map(String));
  const needsCode = askCode && methods.includes('totp');
  const offerPasskey = askCode && methods.includes('passkey');
  const fields = fieldErrors(signIn.error, t);

  const signedIn = () => {
    setSignInNotice(null);
    navigate(safeNext(params.get('next')), { replace: true });
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate({ email, password, totp_code: needsCode && code ? code : null }, { onSuccess: signedIn });
  };

  // The first totp_required is no failure: the code field with its hint is the answer.
  const showError = signIn.error && !(reason === 'totp_required' && !code);
  return (
    <AuthLayout title={t('auth:signIn.title')}>
      {notice && <Notice tone="success">{t(`auth:signIn.notice.${notice}`)}</Notice>}
      {showError && <ErrorAlert error={signIn.error} />}
      <form onSubmit={submit} noValidate={false}>
        <TextField
          label={t('auth:fields.email')}
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fields.email}
        />
        <TextField
          label={t('auth:fields.password')}
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fields.password}
        />
        {needsCode && (
          <TextField
            label={t('auth:signIn.code')}
            hint={t('auth:signIn.codeHint')}
            name="totp"
            autoComplete="one-time-code"
            inputMode="numeric"
            required
            autoFocus
            value={code}
            onChange={(e) => setCode(e.target.value.trim())}
            error={fields.totp_code}
          />
        )}
        {offerPasskey && (
          <PasskeySecondFactor busy={signIn.isPending} onAnswer={(passkey) => signIn.mutate({ email, password, passkey }, { onSuccess: signedIn })} />
        )}
        {(!offerPasskey || needsCode) && (
          <div className="button-row">
            <button type="submit" className="button" disabled={signIn.isPending}>
              {signIn.isPending ? t('auth:signIn.working') : t('auth:signIn.submit')}
            </button>
          </div>
        )}
      </form>
      <ProviderButtons returnTo={safeNext(params.get('next'))} />
      {!askCode && <PasskeySignIn onSignedIn={signedIn} />}
      <p>
        <Link to="/forgot-password">{t('auth:signIn.forgot')}</Link>
      </p>
      <p>
        {t('auth:signIn.noAccount')} <Link to={`/sign-up${params.get('next') ? `?next=${encodeURIComponent(params.get('next') ?? '')}` : ''}`}>{t('auth:signIn.signUp')}</Link>
      </p>
    </AuthLayout>
  );
}
