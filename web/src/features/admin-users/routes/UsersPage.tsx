import { useTranslation } from 'react-i18next';
import { PageTitle } from '@/components/PageTitle';

/** Placeholder: the page is being built (issue 12). */
export function UsersPage() {
  const { t } = useTranslation('admin');
  return <PageTitle>{t('nav.users')}</PageTitle>;
}
