import { useTranslation } from 'react-i18next';

/**
 * A server status (stored or live from Wings) as a word of the user's language, from the
 * servers namespace the customer pages use; a status the app has no word for is shown as is.
 */
export function useStatusWord(): (status: string) => string {
  const { i18n } = useTranslation();
  return (status) => {
    const key = `servers:status.${status}`;
    return i18n.exists(key) ? i18n.t(key) : status;
  };
}
