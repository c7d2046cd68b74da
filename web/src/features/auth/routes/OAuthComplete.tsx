import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { TextField } from '@/components/Field';
import { ErrorAlert, Loading, Notice } from '@/components/States';
import { PasskeySecondFactor } from '@/features/passkeys/components/PasskeySecondFactor';
import { ApiError } from '@/lib/errors';
import { startUrl, useCompleteOAuth, useProveByMail, useProveWithPassword, useProviders, type OAuthResult } from '../api/oauth';
import { AuthLayout, safeNext } from '../components/AuthLayout';

const NAMES: Record<string, string> = { google: 'Google', microsoft: 'Microsoft', github: 'GitHub', discord: 'Discord' };
const REASONS = new Set([
  'state_invalid', 'provider_error', 'code_rejected', 'id_token_invalid', 'nonce_mismatch', 'id_token_expired',
  'signature_invalid', 'email_unverified', 'email_missing', 'identity_taken', 'ticket_invalid', 'provider_unknown',
  'unavailable', 'retry', 'inactive', 'locked', 'rate_limited',
]);

function reasonOf(error: unknown): string | undefined {
  return error instanceof ApiError ? (error.details.reason as string | undefined) : undefined;
}

/**
 * Where the API's callback sends the browser (docs/oauth.md): `?error=<reason>` says why a sign-in
 * was refused; `?result=linked` that a provider was linked to the signed-in account; otherwise the
 * ticket in the HttpOnly cookie is redeemed here: signed in (the 2FA code asked when the account
 * has 2FA), or the link-your-account confirmation when an account already holds the address.
 */
export function OAuthComplete() {
  const { t } = useTranslation('oauth');
  const [params] = useSearchParams();
  const provider = params.get('provider') ?? '';
  const name = NAMES[provider] ?? provider;
  const error = params.get('error');
  const complete = useCompleteOAuth();
  const navigate = useNavigate();
  const asked = useRef(false);
  const [code, setCode] = useState('');

  useEffect(() => {
    if (error || params.get('result') || asked.current) return;
    asked.current = true;
    complete.mutate({ totp_code: null });
  }, [error, params, complete]);

  const done = complete.data;
  useEffect(() => {
    if (done?.status === 'signed_in') navigate(safeNext(done.return_to), { replace: true });
  }, [done, navigate]);

  if (error) return <Refused provider={name} reason={error} />;
  if (params.get('result') === 'linked') {
    return (
      <AuthLayout title={t('complete.linkedTitle', { provider: name })}>
        <Notice tone="success">{t('complete.linked', { provider: name })}</Notice>
        <p>
          <Link to="/account">{t('complete.toAccount')}</Link>
        </p>
      </AuthLayout>
    );
  }
  if (done?.status === 'link_required') return <LinkRequired result={done} provider={name} />;

  const reason = reasonOf(complete.error);
  if (reason === 'totp_required' || reason === 'totp_invalid' || reason === 'passkey_invalid') {
    // The account's second factors (details.methods of totp_required): a code, a passkey, or both.
    const given = complete.error instanceof ApiError ? complete.error.details.methods : undefined;
    const methods = Array.isArray(given) ? given.map(String) : ['totp'];
    const submit = (event: FormEvent) => {
      event.preventDefault();
      complete.mutate({ totp_code: code });
    };
    return (
      <AuthLayout title={t('complete.title')}>
        {reason !== 'totp_required' && <ErrorAlert error={complete.error} />}
        {methods.includes('totp') && (
          <form onSubmit={submit}>
            <TextField
              label={t('complete.code')}
              hint={t('complete.codeHint')}
              name="totp"
              autoComplete="one-time-code"
              inputMode="numeric"
              required
              autoFocus
              value={code}
              onChange={(e) => setCode(e.target.value.trim())}
            />
            <div className="button-row">
              <button type="submit" className="button" disabled={complete.isPending}>
                {t('complete.submit')}
              </button>
            </div>
          </form>
        )}
        {methods.includes('passkey') && (
          <PasskeySecondFactor busy={complete.isPending} onAnswer={(passkey) => complete.mutate({ passkey })} />
        )}
      </AuthLayout>
    );
  }
  if (complete.isError) return <Refused provider={name} reason={reason ?? 'unknown'} error={complete.error} />;
  return (
    <AuthLayout title={t('complete.title')}>
      <Loading label={t('complete.working', { provider: name })} />
    </AuthLayout>
  );
}

function Refused({ provider, reason, error }: { provider: string; reason: string; error?: unknown }) {
  const { t } = useTranslation('oauth');
  const known = REASONS.has(reason) ? reason : 'unknown';
  return (
    <AuthLayout title={t('complete.failedTitle', { provider })}>
      {known === 'unknown' && error ? (
        <ErrorAlert error={error} />
      ) : (
        <div role="alert" className="alert" data-tone="error">
          <p>{t(`errors.${known}`, { provider })}</p>
        </div>
      )}
      <p>
        <Link to="/sign-in">{t('complete.toSignIn')}</Link>
      </p>
    </AuthLayout>
  );
}

/** The link-your-account confirmation: the owner proves the account before the provider is linked. */
function LinkRequired({ result, provider }: { result: OAuthResult; provider: string }) {
  const { t } = useTranslation('oauth');
  const navigate = useNavigate();
  const prove = useProveWithPassword();
  const mail = useProveByMail();
  const providers = useProviders();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const reason = reasonOf(prove.error);
  const needsCode = reason === 'totp_required' || reason === 'totp_invalid';
  const email = result.email ?? '';
  const linked = (result.methods ?? []).filter((m) => m !== 'password' && m !== 'mail');

  useEffect(() => {
    if (prove.data?.status === 'signed_in') navigate(safeNext(prove.data.return_to), { replace: true });
  }, [prove.data, navigate]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    prove.mutate({ password, totp_code: needsCode && code ? code : null });
  };
  return (
    <AuthLayout title={t('link.title', { provider })}>
      <p>{t('link.body', { provider, email })}</p>
      {result.methods?.includes('password') && (
        <form className="card" onSubmit={submit} aria-labelledby="prove-password">
          <h2 id="prove-password">{t('link.passwordTitle')}</h2>
          {prove.isError && !(reason === 'totp_required' && !code) && <ErrorAlert error={prove.error} />}
          <TextField
            label={t('link.password')}
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          {needsCode && (
            <TextField
              label={t('complete.code')}
              hint={t('complete.codeHint')}
              name="totp"
              autoComplete="one-time-code"
              inputMode="numeric"
              required
              value={code}
              onChange={(e) => setCode(e.target.value.trim())}
            />
          )}
          <button type="submit" className="button" disabled={prove.isPending}>
            {t('link.submit')}
          </button>
        </form>
      )}
      {linked.length > 0 && (
        <section className="card" aria-labelledby="prove-provider">
          <h2 id="prove-provider">{t('link.providerTitle')}</h2>
          <ul className="button-row" role="list">
            {linked.map((id) => (
              <li key={id}>
                <a className="button" data-variant="secondary" href={startUrl(id, result.return_to)}>
                  {t('continueWith', { provider: providers.data?.find((p) => p.id === id)?.name ?? NAMES[id] ?? id })}
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section className="card" aria-labelledby="prove-mail">
        <h2 id="prove-mail">{t('link.mailTitle')}</h2>
        {mail.isSuccess ? (
          <Notice tone="success">{t('link.mailSent', { email, provider })}</Notice>
        ) : (
          <>
            <p>{t('link.mailBody', { email, provider })}</p>
            {mail.isError && <ErrorAlert error={mail.error} />}
            <button type="button" className="button" data-variant="secondary" disabled={mail.isPending} onClick={() => mail.mutate()}>
              {t('link.mail')}
            </button>
          </>
        )}
      </section>
    </AuthLayout>
  );
}
