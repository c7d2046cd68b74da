import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { TextField } from '@/components/Field';
import { ErrorAlert, Notice } from '@/components/States';
import { fieldErrors } from '@/lib/errors';
import { useSignUp } from '../api/auth';
import { AuthLayout, safeNext } from '../components/AuthLayout';
import { ProviderButtons } from '../components/ProviderButtons';

export function SignUp() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const signUp = useSignUp();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const fields = fieldErrors(signUp.error, t);
  const next = params.get('next');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    signUp.mutate({ email, password, name: name || null });
  };

  if (signUp.isSuccess) {
    return (
      <AuthLayout title={t('auth:signUp.doneTitle')}>
        <Notice tone="success">{t('auth:signUp.done', { email: signUp.data.email })}</Notice>
        <p>
          <Link to={next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in'}>{t('auth:signUp.toSignIn')}</Link>
        </p>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title={t('auth:signUp.title')}>
      {signUp.error && <ErrorAlert error={signUp.error} />}
      <form onSubmit={submit}>
        <TextField
          label={t('auth:fields.name')}
          name="name"
          autoComplete="name"
          maxLength={100}
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={fields.name}
        />
        <TextField
          label={t('auth:fields.email')}
          type="email"
          name="email"
          autoComplete="email"
          required
          maxLength={320}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fields.email}
        />
        <TextField
          label={t('auth:fields.newPassword')}
          hint={t('auth:fields.passwordHint')}
          type="password"
          name="password"
          autoComplete="new-password"
          required
          minLength={12}
          maxLength={128}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fields.password}
        />
        <button type="submit" className="button" disabled={signUp.isPending}>
          {t('auth:signUp.submit')}
        </button>
      </form>
      <ProviderButtons returnTo={safeNext(params.get('next'))} />
      <p>
        {t('auth:signUp.haveAccount')} <Link to="/sign-in">{t('auth:signUp.signIn')}</Link>
      </p>
    </AuthLayout>
  );
}
