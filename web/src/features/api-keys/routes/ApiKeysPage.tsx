import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { PageTitle } from '@/components/PageTitle';
import { ApiKeysSection } from '../components/ApiKeysSection';

export function ApiKeysPage() {
  const { t } = useTranslation('apiKeys');
  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <p>
        <Link to="/account">{t('back')}</Link>
      </p>
      <ApiKeysSection />
    </>
  );
}
