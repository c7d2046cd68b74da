import { useTranslation } from 'react-i18next';
import { PageTitle } from '@/components/PageTitle';

export function CreateServer() {
  const { t } = useTranslation();
  return <PageTitle>{t('servers:CreateServer.title')}</PageTitle>;
}
