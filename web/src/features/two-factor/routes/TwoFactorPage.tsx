import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { TwoFactorSection } from '../components/TwoFactorSection';

export function TwoFactorPage() {
  const { t } = useTranslation('twoFactor');
  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <p>
        <Link to="/account">{t('back')}</Link>
      </p>
      <TwoFactorSection />
    </>
  );
}
