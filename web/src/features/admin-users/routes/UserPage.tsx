import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Dialog, Heading, Modal, ModalOverlay } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import '../admin-users.css';
import { TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { useMe } from '@/features/auth/api/session';
import { fieldErrors } from '@/lib/errors';
import { formatDate } from '@/lib/format';
import { useAdminUser, useResetTwoFactor, useSetUserAdmin, useSetUserSuspended, type AdminUserDetail } from '../api/users';

/** One account for the operator: facts, memberships, suspend, admin flag, 2FA reset. */
export function UserPage() {
  const { userId = '' } = useParams();
  const { t } = useTranslation('adminUsers');
  const user = useAdminUser(userId);
  if (user.isPending) return <Loading />;
  if (user.isError) return <ErrorAlert error={user.error} onRetry={() => void user.refetch()} />;
  return (
    <>
      <PageTitle>{user.data.email}</PageTitle>
      <p>
        <Link to="/admin/users">{t('detail.back')}</Link>
      </p>
      <Facts user={user.data} />
      <Actions user={user.data} />
      <Memberships user={user.data} />
    </>
  );
}

function Facts({ user }: { user: AdminUserDetail }) {
  const { t } = useTranslation('adminUsers');
  const yesNo = (value: boolean) => (value ? t('yes') : t('no'));
  return (
    <section className="card" aria-labelledby="facts-heading">
      <h2 id="facts-heading">{t('detail.account')}</h2>
      <dl className="admin-facts">
        <dt>{t('columns.id')}</dt>
        <dd>
          <code>{user.id}</code>
        </dd>
        <dt>{t('columns.name')}</dt>
        <dd>{user.name ?? '–'}</dd>
        <dt>{t('columns.status')}</dt>
        <dd>
          <span className="badge" data-status={user.status === 'suspended' ? 'failed' : 'running'}>
            {t(`status.${user.status}`, { defaultValue: user.status })}
          </span>
        </dd>
        <dt>{t('columns.admin')}</dt>
        <dd>{yesNo(user.is_admin)}</dd>
        <dt>{t('columns.twoFactor')}</dt>
        <dd>{yesNo(user.totp_enabled)}</dd>
        <dt>{t('columns.passkeys')}</dt>
        <dd>{user.passkeys ?? 0}</dd>
        <dt>{t('columns.verified')}</dt>
        <dd>{yesNo(user.email_verified)}</dd>
        <dt>{t('columns.created')}</dt>
        <dd>{formatDate(user.created_at)}</dd>
      </dl>
    </section>
  );
}

type Asking = null | 'suspend' | 'admin';

function Actions({ user }: { user: AdminUserDetail }) {
  const { t } = useTranslation('adminUsers');
  const me = useMe();
  const self = me.data?.id === user.id;
  // Until the caller is known nothing is offered: an admin never acts on their own account here.
  const unknown = !me.data;
  // A passkey is a second factor too (docs/passkeys.md): the reset removes them with TOTP.
  const hasSecondFactor = user.totp_enabled || (user.passkeys ?? 0) > 0;
  const suspend = useSetUserSuspended(user.id);
  const flag = useSetUserAdmin(user.id);
  const [asking, setAsking] = useState<Asking>(null);
  const [resetting, setResetting] = useState(false);
  const [resetDone, setResetDone] = useState(false);
  const doneRef = useRef<HTMLDivElement>(null);
  // The reset button is disabled once 2FA is off: focus goes to the outcome, not to the page's top.
  useEffect(() => {
    if (resetDone) doneRef.current?.focus();
  }, [resetDone]);
  const suspended = user.status === 'suspended';
  const done = suspend.isSuccess || flag.isSuccess;
  return (
    <section className="card" aria-labelledby="actions-heading">
      <h2 id="actions-heading">{t('detail.actions')}</h2>
      <div className="button-row">
        <button
          type="button"
          className="button"
          data-variant={suspended ? undefined : 'danger'}
          disabled={unknown || self || suspend.isPending}
          onClick={() => setAsking('suspend')}
        >
          {suspended ? t('detail.unsuspend') : t('detail.suspend')}
        </button>
        <button
          type="button"
          className="button"
          data-variant="secondary"
          disabled={unknown || (self && user.is_admin) || flag.isPending}
          onClick={() => setAsking('admin')}
        >
          {user.is_admin ? t('detail.revokeAdmin') : t('detail.makeAdmin')}
        </button>
        <button
          type="button"
          className="button"
          data-variant="secondary"
          disabled={unknown || self || !hasSecondFactor}
          onClick={() => setResetting(true)}
        >
          {t('reset.open')}
        </button>
      </div>
      {self && <p className="hint">{t('detail.selfHint')}</p>}
      {!self && !hasSecondFactor && <p className="hint">{t('reset.noTwoFactor')}</p>}
      {suspend.isError && <ErrorAlert error={suspend.error} />}
      {flag.isError && <ErrorAlert error={flag.error} />}
      {done && <Notice tone="success">{t('detail.saved')}</Notice>}
      {resetDone && (
        <div ref={doneRef} tabIndex={-1}>
          <Notice tone="success">{t('reset.done')}</Notice>
        </div>
      )}
      <ConfirmDialog
        isOpen={asking === 'suspend'}
        title={suspended ? t('detail.unsuspendTitle', { email: user.email }) : t('detail.suspendTitle', { email: user.email })}
        confirmLabel={suspended ? t('detail.unsuspend') : t('detail.suspend')}
        danger={!suspended}
        busy={suspend.isPending}
        onCancel={() => setAsking(null)}
        onConfirm={() => suspend.mutate(!suspended, { onSettled: () => setAsking(null) })}
      >
        <p>{suspended ? t('detail.unsuspendText') : t('detail.suspendText')}</p>
      </ConfirmDialog>
      <ConfirmDialog
        isOpen={asking === 'admin'}
        title={user.is_admin ? t('detail.revokeTitle', { email: user.email }) : t('detail.makeTitle', { email: user.email })}
        confirmLabel={user.is_admin ? t('detail.revokeAdmin') : t('detail.makeAdmin')}
        danger={user.is_admin}
        busy={flag.isPending}
        onCancel={() => setAsking(null)}
        onConfirm={() => flag.mutate(!user.is_admin, { onSettled: () => setAsking(null) })}
      >
        <p>{user.is_admin ? t('detail.revokeText') : t('detail.makeText')}</p>
      </ConfirmDialog>
      <ResetTwoFactor
        user={user}
        isOpen={resetting}
        onClose={() => setResetting(false)}
        onDone={() => setResetDone(true)}
        askCode={Boolean(me.data?.totp_enabled)}
      />
    </section>
  );
}

/** The 2FA reset, behind the admin's own identity check (their password, and their code when they use 2FA). */
function ResetTwoFactor({
  user,
  isOpen,
  onClose,
  onDone,
  askCode,
}: {
  user: AdminUserDetail;
  isOpen: boolean;
  onClose: () => void;
  onDone: () => void;
  askCode: boolean;
}) {
  const { t } = useTranslation('adminUsers');
  const reset = useResetTwoFactor(user.id);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const errors = fieldErrors(reset.error, t);
  const close = () => {
    setPassword('');
    setCode('');
    reset.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    reset.mutate(
      { current_password: password, totp_code: code.trim() || null },
      {
        onSuccess: () => {
          close();
          onDone();
        },
      },
    );
  };
  return (
    <ModalOverlay className="modal-overlay" isOpen={isOpen} onOpenChange={(open) => !open && close()} isDismissable>
      <Modal className="modal">
        <Dialog>
          <Heading slot="title">{t('reset.title', { email: user.email })}</Heading>
          <p>{t('reset.text')}</p>
          <form onSubmit={submit} noValidate>
            <TextField
              label={t('reset.password')}
              type="password"
              autoComplete="current-password"
              // The dialog opens to fill this in: the keyboard starts here, not on the dialog's frame.
              autoFocus
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              error={errors.current_password}
            />
            {askCode && (
              <TextField
                label={t('reset.code')}
                inputMode="numeric"
                autoComplete="one-time-code"
                value={code}
                onChange={(e) => setCode(e.target.value)}
                error={errors.totp_code}
              />
            )}
            {reset.isError && Object.keys(errors).length === 0 && <ErrorAlert error={reset.error} />}
            <div className="button-row">
              <button type="submit" className="button" data-variant="danger" disabled={reset.isPending || !password}>
                {t('reset.submit')}
              </button>
              <button type="button" className="button" data-variant="secondary" onClick={close}>
                {t('common:actions.cancel')}
              </button>
            </div>
          </form>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

function Memberships({ user }: { user: AdminUserDetail }) {
  const { t } = useTranslation('adminUsers');
  return (
    <section aria-labelledby="memberships-heading">
      <h2 id="memberships-heading">{t('memberships.title')}</h2>
      <ExportCsvButton
        filename={`user-${user.id}-tenants`}
        fetchPage={async () => ({ items: user.memberships, next_cursor: null })}
        columns={[
          { header: t('memberships.tenant'), value: (m) => m.tenant_id },
          { header: t('memberships.role'), value: (m) => m.role },
          { header: t('memberships.scope'), value: (m) => m.server_id },
          { header: t('memberships.expires'), value: (m) => m.expires_at },
        ]}
      />
      {user.memberships.length === 0 ? (
        <Empty>{t('memberships.empty')}</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('memberships.tenant')}</th>
              <th scope="col">{t('memberships.role')}</th>
              <th scope="col">{t('memberships.scope')}</th>
              <th scope="col">{t('memberships.expires')}</th>
            </tr>
          </thead>
          <tbody>
            {user.memberships.map((m) => (
              <tr key={`${m.tenant_id}:${m.server_id ?? ''}`}>
                <th scope="row">
                  <Link to={`/admin/tenants/${m.tenant_id}`}>{m.tenant_id}</Link>
                </th>
                <td>{m.role}</td>
                <td>{m.server_id ? <code>{m.server_id}</code> : t('memberships.wholeTenant')}</td>
                <td>{m.expires_at ? formatDate(m.expires_at) : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
