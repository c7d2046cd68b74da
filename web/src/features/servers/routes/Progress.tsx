import { useTranslation } from 'react-i18next';
import { PageTitle } from '@/components/PageTitle';

export function Progress() {
  const { t } = useTranslation();
  return <PageTitle>{t('servers:Progress.title')}</PageTitle>;
}
