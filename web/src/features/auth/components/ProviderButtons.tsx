import { useTranslation } from 'react-i18next';
import { startUrl, useProviders } from '../api/oauth';

/**
 * "Continue with Google" (and the other offered providers) on the sign-in and sign-up pages.
 * Plain links: the flow is a full-page navigation to the API's start, which redirects to the
 * provider (no script handles a token). Nothing shows while the list loads or when none is offered.
 */
export function ProviderButtons({ returnTo }: { returnTo: string }) {
  const { t } = useTranslation('oauth');
  const providers = useProviders();
  if (!providers.data?.length) return null;
  return (
    <nav aria-label={t('buttonsLabel')}>
      <p className="muted">{t('or')}</p>
      <ul className="button-row" role="list">
        {providers.data.map((p) => (
          <li key={p.id}>
            <a className="button" data-variant="secondary" href={startUrl(p.id, returnTo)}>
              {t('continueWith', { provider: p.name })}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
