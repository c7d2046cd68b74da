import { useTranslation } from 'react-i18next';
import { PageTitle } from '@/components/PageTitle';

export function FilesPage() {
  const { t } = useTranslation();
  return <PageTitle>{t('files:FilesPage.title')}</PageTitle>;
}
