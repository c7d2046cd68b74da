import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { SelectField, TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert, Loading, Notice } from '@/components/States';
import { useMe } from '@/features/auth/api/session';
import { fieldErrors } from '@/lib/errors';
import { formatDate } from '@/lib/format';
import { SessionsSection } from '../components/SessionsSection';
import { LANGUAGES } from '@/lib/i18n';
import { useResendVerification, useSendPasswordLink, useSignOutEverywhere, useUpdateMe } from '../api/account';

type Me = NonNullable<ReturnType<typeof useMe>['data']>;

/** Your account: name, email, password, sessions, language; links to 2FA and API keys. */
export function AccountPage() {
  const { t } = useTranslation('account');
  const me = useMe();
  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <nav aria-label={t('sections')}>
        <ul>
          <li>
            <Link to="/account/two-factor">{t('links.twoFactor')}</Link>
          </li>
          <li>
            <Link to="/account/api-keys">{t('links.apiKeys')}</Link>
          </li>
        </ul>
      </nav>
      {me.isPending ? (
        <Loading />
      ) : me.isError ? (
        <ErrorAlert error={me.error} onRetry={() => void me.refetch()} />
      ) : (
        <>
          <Profile me={me.data} />
          <Email me={me.data} />
          <Password me={me.data} />
          <Language />
          <SessionsSection />
          <Sessions />
        </>
      )}
    </>
  );
}

function Profile({ me }: { me: Me }) {
  const { t } = useTranslation('account');
  const update = useUpdateMe();
  const [name, setName] = useState(me.name ?? '');
  const errors = fieldErrors(update.error, t);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate({ name: name.trim() || null });
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="profile-heading">
      <h2 id="profile-heading">{t('profile.title')}</h2>
      <p className="muted">{t('profile.since', { when: formatDate(me.created_at) })}</p>
      <TextField label={t('profile.name')} autoComplete="name" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
      {update.isError && !errors.name && <ErrorAlert error={update.error} />}
      {update.isSuccess && <Notice tone="success">{t('saved')}</Notice>}
      <button type="submit" className="button" disabled={update.isPending}>
        {t('profile.save')}
      </button>
    </form>
  );
}

function Email({ me }: { me: Me }) {
  const { t } = useTranslation('account');
  const update = useUpdateMe();
  const resend = useResendVerification();
  const [email, setEmail] = useState('');
  const errors = fieldErrors(update.error, t);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate({ email: email.trim() }, { onSuccess: () => setEmail('') });
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="email-heading">
      <h2 id="email-heading">{t('email.title')}</h2>
      <p>
        {t('email.current', { email: me.email })}{' '}
        {me.email_verified ? t('email.verified') : t('email.unverified')}
      </p>
      {me.pending_email && <Notice tone="info">{t('email.pending', { email: me.pending_email })}</Notice>}
      {(me.pending_email || !me.email_verified) && (
        <>
          {resend.isError && <ErrorAlert error={resend.error} />}
          {resend.isSuccess && <Notice tone="success">{t('email.resent')}</Notice>}
          <button type="button" className="button" data-variant="secondary" disabled={resend.isPending} onClick={() => resend.mutate()}>
            {t('email.resend')}
          </button>
        </>
      )}
      <TextField
        label={t('email.new')}
        type="email"
        autoComplete="email"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        hint={t('email.hint')}
        error={errors.email}
      />
      {update.isError && !errors.email && <ErrorAlert error={update.error} />}
      <button type="submit" className="button" disabled={update.isPending || !email.trim()}>
        {t('email.save')}
      </button>
    </form>
  );
}

function Password({ me }: { me: Me }) {
  const { t } = useTranslation('account');
  const send = useSendPasswordLink();
  return (
    <section className="card" aria-labelledby="password-heading">
      <h2 id="password-heading">{t('password.title')}</h2>
      <p>{t('password.body', { email: me.email })}</p>
      {send.isError && <ErrorAlert error={send.error} />}
      {send.isSuccess && <Notice tone="success">{t('password.sent', { email: me.email })}</Notice>}
      <button type="button" className="button" data-variant="secondary" disabled={send.isPending} onClick={() => send.mutate(me.email)}>
        {t('password.send')}
      </button>
    </section>
  );
}

function Language() {
  const { t, i18n } = useTranslation('account');
  return (
    <section className="card" aria-labelledby="language-heading">
      <h2 id="language-heading">{t('language.title')}</h2>
      <SelectField
        label={t('language.label')}
        hint={t('language.hint')}
        value={i18n.resolvedLanguage}
        onChange={(e) => void i18n.changeLanguage(e.target.value)}
      >
        {LANGUAGES.map((lng) => (
          <option key={lng} value={lng} lang={lng}>
            {t(`common:language.${lng}`)}
          </option>
        ))}
      </SelectField>
    </section>
  );
}

function Sessions() {
  const { t } = useTranslation('account');
  const everywhere = useSignOutEverywhere();
  const navigate = useNavigate();
  const [asking, setAsking] = useState(false);
  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">{t('sessions.title')}</h2>
      <p>{t('sessions.body')}</p>
      {everywhere.isError && <ErrorAlert error={everywhere.error} />}
      <button type="button" className="button" data-variant="danger" onClick={() => setAsking(true)}>
        {t('sessions.everywhere')}
      </button>
      <ConfirmDialog
        isOpen={asking}
        title={t('sessions.confirmTitle')}
        confirmLabel={t('sessions.everywhere')}
        danger
        busy={everywhere.isPending}
        onCancel={() => setAsking(false)}
        onConfirm={() => everywhere.mutate(undefined, { onSuccess: () => navigate('/sign-in'), onSettled: () => setAsking(false) })}
      >
        <p>{t('sessions.confirmBody')}</p>
      </ConfirmDialog>
    </section>
  );
}
