import { useTranslation } from 'react-i18next';

/** A server or operation status in words (never colour alone). */
export function StatusBadge({ status }: { status: string }) {
  const { t, i18n } = useTranslation();
  const key = `servers:status.${status}`;
  return (
    <span className="badge" data-status={status}>
      {i18n.exists(key) ? t(key) : status}
    </span>
  );
}
