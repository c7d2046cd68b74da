import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { TextField } from '@/components/Field';
import { ErrorAlert } from '@/components/States';
import { ApiError, fieldErrors } from '@/lib/errors';
import { useDeleteAccount } from '../api/account';

interface Props {
  email: string;
  totpEnabled: boolean;
}

interface BlockingTenant {
  id: string;
  name: string;
}

/** The tenants a refusal names (details.tenants of a 409 last_owner_with_*), to say which ones. */
function blockingTenants(error: unknown): BlockingTenant[] {
  if (!(error instanceof ApiError) || !Array.isArray(error.details.tenants)) return [];
  return (error.details.tenants as BlockingTenant[]).filter((t) => typeof t?.id === 'string');
}

/**
 * Delete your account (DELETE /v1/me): the current password (and the 2FA code when it is on),
 * and the account's email typed out as the confirmation, so it is never one careless click.
 */
export function DeleteAccountSection({ email, totpEnabled }: Props) {
  const { t } = useTranslation('account');
  const navigate = useNavigate();
  const remove = useDeleteAccount(() => navigate('/sign-in', { replace: true }));
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [typed, setTyped] = useState('');
  const errors = fieldErrors(remove.error, t);
  const matches = typed.trim().toLowerCase() === email.toLowerCase();
  const ready = password !== '' && matches && (!totpEnabled || code !== '');
  const placed = ['current_password', 'totp_code'].some((f) => errors[f]);
  const tenants = blockingTenants(remove.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    remove.mutate({ current_password: password, totp_code: totpEnabled ? code : null });
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="delete-account-heading">
      <h2 id="delete-account-heading">{t('deleteAccount.title')}</h2>
      <p>{t('deleteAccount.body')}</p>
      <p className="muted">{t('deleteAccount.ownerRule')}</p>
      <TextField
        label={t('deleteAccount.password')}
        type="password"
        name="current-password-delete"
        autoComplete="current-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={errors.current_password}
      />
      {totpEnabled && (
        <TextField
          label={t('deleteAccount.code')}
          hint={t('deleteAccount.codeHint')}
          autoComplete="one-time-code"
          required
          value={code}
          onChange={(e) => setCode(e.target.value.trim())}
          error={errors.totp_code}
        />
      )}
      <TextField
        label={t('deleteAccount.confirm')}
        hint={t('deleteAccount.confirmHint', { email })}
        autoComplete="off"
        spellCheck={false}
        required
        value={typed}
        onChange={(e) => setTyped(e.target.value)}
        error={typed !== '' && !matches ? t('deleteAccount.confirmMismatch') : undefined}
      />
      {remove.isError && !placed && <ErrorAlert error={remove.error} />}
      {tenants.length > 0 && (
        <>
          <p>{t('deleteAccount.blockedTenants')}</p>
          <ul>
            {tenants.map((tenant) => (
              <li key={tenant.id}>{tenant.name}</li>
            ))}
          </ul>
        </>
      )}
      <button type="submit" className="button" data-variant="danger" disabled={remove.isPending || !ready}>
        {remove.isPending ? t('deleteAccount.working') : t('deleteAccount.submit')}
      </button>
    </form>
  );
}
