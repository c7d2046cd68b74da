import { useTranslation } from 'react-i18next';
import { SelectField, TextField } from '@/components/Field';
import { useRoles } from '@/features/roles/api/roles';
import { useServerChoices } from '../api/members';

export interface GrantDraft {
  role: string;
  serverId: string;
  expires: string; // datetime-local value, '' = never
}

/** Role, server scope and expiry of a grant (an invitation or a member's binding). */
export function GrantFields({
  tenantId,
  value,
  onChange,
  errors,
}: {
  tenantId: string;
  value: GrantDraft;
  onChange: (next: GrantDraft) => void;
  errors: Record<string, string>;
}) {
  const { t } = useTranslation('members');
  const roles = useRoles(tenantId);
  const servers = useServerChoices(tenantId);
  const owner = value.role === 'owner';
  return (
    <>
      <SelectField
        label={t('grant.role')}
        value={value.role}
        onChange={(e) => onChange({ ...value, role: e.target.value })}
        error={errors.role}
        hint={roles.isError ? t('grant.rolesUnavailable') : undefined}
      >
        {(roles.data?.items ?? [{ id: value.role, name: value.role, builtin: true } as const]).map((r) => (
          <option key={r.id} value={r.id}>
            {r.builtin ? t(`roles:builtin.${r.id}`, { defaultValue: r.name }) : r.name}
          </option>
        ))}
      </SelectField>
      <SelectField
        label={t('grant.scope')}
        value={owner ? '' : value.serverId}
        disabled={owner}
        onChange={(e) => onChange({ ...value, serverId: e.target.value })}
        error={errors.server_id}
        hint={owner ? t('grant.ownerWide') : t('grant.scopeHint')}
      >
        <option value="">{t('grant.wholeTenant')}</option>
        {(servers.data ?? []).map((s) => (
          <option key={s.id} value={s.id}>
            {t('grant.onlyServer', { name: s.name })}
          </option>
        ))}
      </SelectField>
      <TextField
        label={t('grant.expires')}
        type="datetime-local"
        value={owner ? '' : value.expires}
        disabled={owner}
        onChange={(e) => onChange({ ...value, expires: e.target.value })}
        error={errors.expires_at}
        hint={owner ? t('grant.ownerWide') : t('grant.expiresHint')}
      />
    </>
  );
}
