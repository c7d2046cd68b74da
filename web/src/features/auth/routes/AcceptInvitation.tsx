import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router';
import { ErrorAlert, Notice } from '@/components/States';
import { useAcceptInvitation } from '../api/auth';
import { useMe, useSessionState } from '../api/session';
import { AuthLayout } from '../components/AuthLayout';

/** The mail link: /invitations/accept?token=…; signs in or up on the way and comes back here. */
export function AcceptInvitation() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const token = params.get('token') ?? '';
  const state = useSessionState();
  const me = useMe();
  const accept = useAcceptInvitation();
  const here = encodeURIComponent(location.pathname + location.search);

  return (
    <AuthLayout title={t('auth:invite.title')}>
      {!token && <Notice tone="error">{t('auth:invite.noToken')}</Notice>}
      {token && state !== 'signed-in' && (
        <>
          <p>{t('auth:invite.signInFirst')}</p>
          <div className="button-row">
            <Link className="button" to={`/sign-in?next=${here}`}>
              {t('auth:invite.signIn')}
            </Link>
            <Link className="button" data-variant="secondary" to={`/sign-up?next=${here}`}>
              {t('auth:invite.signUp')}
            </Link>
          </div>
        </>
      )}
      {token && state === 'signed-in' && (
        <>
          {me.data && <p>{t('auth:invite.as', { email: me.data.email })}</p>}
          {accept.error && <ErrorAlert error={accept.error} />}
          <button
            type="button"
            className="button"
            disabled={accept.isPending}
            onClick={() => accept.mutate(token, { onSuccess: (tenant) => navigate(`/t/${tenant.id}`) })}
          >
            {t('auth:invite.accept')}
          </button>
        </>
      )}
    </AuthLayout>
  );
}
