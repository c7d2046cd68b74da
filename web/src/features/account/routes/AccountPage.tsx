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
import { DeleteAccountSection } from '../components/DeleteAccountSection';
import { IdentitiesSection } from '../components/IdentitiesSection';
import { SessionsSection } from '../components/SessionsSection';
import { PasskeysSection } from '@/features/passkeys/components/PasskeysSection';
import { LANGUAGES } from '@/lib/i18n';
import { useChangePassword, useResendVerification, useSignOutEverywhere, useUpdateMe } from '../api/account';

type Me = NonNullable<ReturnType<typeof useMe>['data']>;

/** Your account: name, email, password, sessions, language, deletion; links to 2FA and API keys. */
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
          <li>
            <Link to="/account/notifications">{t('notifications:account.link')}</Link>
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
          <IdentitiesSection />
          <PasskeysSection />
          <Language />
          <SessionsSection />
          <Sessions />
          <DeleteAccountSection email={me.data.email} totpEnabled={me.data.totp_enabled} />
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
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const errors = fieldErrors(update.error, t);
  const placed = ['email', 'current_password', 'totp_code'].some((f) => errors[f]);
  const ready = email.trim() !== '' && password !== '' && (!me.totp_enabled || code !== '');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    // An email change proves the account: the current password, and the 2FA code when it is on.
    update.mutate(
      { email: email.trim(), current_password: password, totp_code: me.totp_enabled ? code : null },
      {
        onSuccess: () => {
          setEmail('');
          setPassword('');
          setCode('');
        },
      },
    );
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
      <TextField
        label={t('email.password')}
        type="password"
        name="current-password-email"
        autoComplete="current-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        hint={t('email.passwordHint')}
        error={errors.current_password}
      />
      {me.totp_enabled && (
        <TextField
          label={t('email.code')}
          hint={t('email.codeHint')}
          autoComplete="one-time-code"
          required
          value={code}
          onChange={(e) => setCode(e.target.value.trim())}
          error={errors.totp_code}
        />
      )}
      {update.isError && !placed && <ErrorAlert error={update.error} />}
      <button type="submit" className="button" disabled={update.isPending || !ready}>
        {t('email.save')}
      </button>
    </form>
  );
}

function Password({ me }: { me: Me }) {
  const { t } = useTranslation('account');
  const change = useChangePassword();
  const navigate = useNavigate();
  const [current, setCurrent] = useState('');
  const [fresh, setFresh] = useState('');
  const [repeat, setRepeat] = useState('');
  const [code, setCode] = useState('');
  const errors = fieldErrors(change.error, t);
  const mismatch = repeat !== '' && repeat !== fresh;
  const placed = ['current_password', 'new_password', 'totp_code'].some((f) => errors[f]);
  const ready = current !== '' && fresh !== '' && repeat === fresh && (!me.totp_enabled || code !== '');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    // Success ends this session too: the hook signs out, and sign-in says why.
    change.mutate(
      { current_password: current, new_password: fresh, totp_code: me.totp_enabled ? code : null },
      { onSuccess: () => navigate(`/sign-in?next=${encodeURIComponent('/account')}`, { replace: true }) },
    );
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="password-heading">
      <h2 id="password-heading">{t('password.title')}</h2>
      <p>{t('password.body')}</p>
      {/* The account's email helps password managers file the new password under it. */}
      <input type="email" name="username" autoComplete="username" value={me.email} readOnly hidden />
      <TextField
        label={t('password.current')}
        type="password"
        name="current-password"
        autoComplete="current-password"
        required
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
        error={errors.current_password}
      />
      <TextField
        label={t('password.new')}
        hint={t('password.newHint')}
        type="password"
        autoComplete="new-password"
        required
        minLength={12}
        maxLength={128}
        value={fresh}
        onChange={(e) => setFresh(e.target.value)}
        error={errors.new_password}
      />
      <TextField
        label={t('password.repeat')}
        type="password"
        autoComplete="new-password"
        required
        value={repeat}
        onChange={(e) => setRepeat(e.target.value)}
        error={mismatch ? t('password.mismatch') : undefined}
      />
      {me.totp_enabled && (
        <TextField
          label={t('password.code')}
          hint={t('password.codeHint')}
          autoComplete="one-time-code"
          required
          value={code}
          onChange={(e) => setCode(e.target.value.trim())}
          error={errors.totp_code}
        />
      )}
      {change.isError && !placed && <ErrorAlert error={change.error} />}
      <button type="submit" className="button" disabled={change.isPending || !ready}>
        {t('password.save')}
      </button>
      <p className="muted">{t('password.forgot')}</p>
    </form>
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
