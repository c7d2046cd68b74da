import { useTranslation } from 'react-i18next';
import { PageTitle } from '@/components/PageTitle';

export function ServerPage() {
  const { t } = useTranslation();
  return <PageTitle>{t('servers:ServerPage.title')}</PageTitle>;
}
