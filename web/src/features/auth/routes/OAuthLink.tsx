import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ErrorAlert, Loading } from '@/components/States';
import { useConfirmLink } from '../api/oauth';
import { AuthLayout } from '../components/AuthLayout';

/** The mailed "link this sign-in" link: it links, then the completion page signs in (2FA included). */
export function OAuthLink() {
  const { t } = useTranslation('oauth');
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const confirm = useConfirmLink();
  const sent = useRef(false);
  const token = params.get('token') ?? '';

  useEffect(() => {
    if (sent.current || !token) return;
    sent.current = true;
    confirm.mutate(token, {
      onSuccess: (linked) => navigate(`/oauth/complete?${new URLSearchParams({ provider: linked.provider })}`, { replace: true }),
    });
  }, [token, confirm, navigate]);

  return (
    <AuthLayout title={t('link.confirmTitle')}>
      {confirm.isError ? (
        <>
          <ErrorAlert error={confirm.error} />
          <p>
            <Link to="/sign-in">{t('complete.toSignIn')}</Link>
          </p>
        </>
      ) : (
        <Loading label={t('link.confirming')} />
      )}
    </AuthLayout>
  );
}
