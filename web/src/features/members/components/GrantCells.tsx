import { useTranslation } from 'react-i18next';
import { formatDate } from '@/lib/format';

/** What a grant gives, as three table cells: the role, where it applies, until when. A
 * member's row and a service account's row show their binding the same way. */
export function GrantCells({
  grant,
  serverName,
  wholeTenant,
  never,
  expired,
}: {
  grant: { role: string; server_id?: string | null; expires_at?: string | null; expired?: boolean };
  serverName: (id: string) => string | null | undefined;
  wholeTenant: string;
  never: string;
  expired: string;
}) {
  const { t } = useTranslation('roles');
  return (
    <>
      <td>{t(`builtin.${grant.role}`, { defaultValue: grant.role })}</td>
      <td>{grant.server_id ? serverName(grant.server_id) : wholeTenant}</td>
      <td>
        {grant.expires_at ? formatDate(grant.expires_at) : never}
        {grant.expired && (
          <>
            {' '}
            <span className="badge" data-status="failed">
              {expired}
            </span>
          </>
        )}
      </td>
    </>
  );
}
