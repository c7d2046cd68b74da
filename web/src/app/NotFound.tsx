import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { PageTitle } from '@/components/PageTitle';

export function NotFound() {
  const { t } = useTranslation();
  return (
    <>
      <PageTitle>{t('common:notFound.title')}</PageTitle>
      <p>{t('common:notFound.text')}</p>
      <Link to="/">{t('common:notFound.home')}</Link>
    </>
  );
}
