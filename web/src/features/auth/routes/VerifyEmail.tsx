import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { ErrorAlert, Loading, Notice } from '@/components/States';
import { useVerifyEmail } from '../api/auth';
import { useSessionState } from '../api/session';
import { AuthLayout } from '../components/AuthLayout';

/** The mail link: /verify-email?token=… (mamba/mail_templates.py). */
export function VerifyEmail() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const verify = useVerifyEmail();
  const state = useSessionState();
  const sent = useRef(false);

  useEffect(() => {
    // Once: the token is single use, and React's strict mode mounts twice in development.
    if (token && !sent.current) {
      sent.current = true;
      verify.mutate(token);
    }
  }, [token, verify]);

  return (
    <AuthLayout title={t('auth:verify.title')}>
      {!token && <Notice tone="error">{t('auth:verify.noToken')}</Notice>}
      {verify.isPending && <Loading label={t('auth:verify.working')} />}
      {verify.error && <ErrorAlert error={verify.error} />}
      {verify.isSuccess && (
        <>
          <Notice tone="success">{t('auth:verify.done', { email: verify.data.email })}</Notice>
          <p>
            <Link to={state === 'signed-in' ? '/' : '/sign-in'}>
              {state === 'signed-in' ? t('auth:verify.continue') : t('auth:verify.toSignIn')}
            </Link>
          </p>
        </>
      )}
    </AuthLayout>
  );
}
