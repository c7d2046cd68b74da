import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { TextField } from '@/components/Field';
import { ErrorAlert, Notice } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { useResetPassword } from '../api/auth';
import { AuthLayout } from '../components/AuthLayout';

/** The mail link: /reset-password?token=… */
export function ResetPassword() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const reset = useResetPassword();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const mismatch = repeat !== '' && repeat !== password;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mismatch) return;
    reset.mutate({ token, password });
  };
  if (!token) {
    return (
      <AuthLayout title={t('auth:reset.title')}>
        <Notice tone="error">{t('auth:reset.noToken')}</Notice>
        <Link to="/forgot-password">{t('auth:reset.askAgain')}</Link>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title={t('auth:reset.title')}>
      {reset.isSuccess ? (
        <>
          <Notice tone="success">{t('auth:reset.done')}</Notice>
          <Link to="/sign-in">{t('auth:reset.toSignIn')}</Link>
        </>
      ) : (
        <form onSubmit={submit}>
          {reset.error && <ErrorAlert error={reset.error} />}
          <TextField
            label={t('auth:fields.newPassword')}
            hint={t('auth:fields.passwordHint')}
            type="password"
            autoComplete="new-password"
            required
            minLength={12}
            maxLength={128}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={fieldErrors(reset.error, t).password}
          />
          <TextField
            label={t('auth:reset.repeat')}
            type="password"
            autoComplete="new-password"
            required
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
            error={mismatch ? t('auth:reset.mismatch') : undefined}
          />
          <button type="submit" className="button" disabled={reset.isPending}>
            {t('auth:reset.submit')}
          </button>
        </form>
      )}
    </AuthLayout>
  );
}
