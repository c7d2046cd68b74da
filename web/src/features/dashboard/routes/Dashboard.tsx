import { useTranslation } from 'react-i18next';
import { PageTitle } from '@/components/PageTitle';

export function Dashboard() {
  const { t } = useTranslation();
  return <PageTitle>{t('dashboard:Dashboard.title')}</PageTitle>;
}
