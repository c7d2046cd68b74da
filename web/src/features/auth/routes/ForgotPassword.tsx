import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { TextField } from '@/components/Field';
import { ErrorAlert, Notice } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { useForgotPassword } from '../api/auth';
import { AuthLayout } from '../components/AuthLayout';

export function ForgotPassword() {
  const { t } = useTranslation();
  const forgot = useForgotPassword();
  const [email, setEmail] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    forgot.mutate(email);
  };
  return (
    <AuthLayout title={t('auth:forgot.title')}>
      {forgot.isSuccess ? (
        <Notice tone="success">{t('auth:forgot.done', { email })}</Notice>
      ) : (
        <>
          <p>{t('auth:forgot.intro')}</p>
          {forgot.error && <ErrorAlert error={forgot.error} />}
          <form onSubmit={submit}>
            <TextField
              label={t('auth:fields.email')}
              type="email"
              autoComplete="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              error={fieldErrors(forgot.error, t).email}
            />
            <button type="submit" className="button" disabled={forgot.isPending}>
              {t('auth:forgot.submit')}
            </button>
          </form>
        </>
      )}
      <p>
        <Link to="/sign-in">{t('auth:forgot.back')}</Link>
      </p>
    </AuthLayout>
  );
}
