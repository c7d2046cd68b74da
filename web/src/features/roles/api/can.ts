/**
 * What the caller may do in a tenant, to disable (not hide) what their role does not allow.
 * The role comes from the caller's tenant list; its permissions from GET /roles. When either is
 * unknown (a server-scoped member cannot list roles), `can` answers undefined and the control
 * stays enabled: the API still decides, and its 403 becomes a sentence.
 */
import { useTenants } from '@/features/tenants/api/tenants';
import { useRoles } from './roles';

export type Can = (permission: string) => boolean | undefined;

export function useCan(tenantId: string): Can {
  const tenants = useTenants();
  const roles = useRoles(tenantId);
  const role = tenants.data?.items.find((t) => t.id === tenantId)?.role;
  const granted = role ? roles.data?.items.find((r) => r.id === role)?.permissions : undefined;
  return (permission) => (granted ? granted.includes(permission) : undefined);
}

/** `disabled` for a control: only a known "no" disables it. */
export const denied = (can: Can, permission: string): boolean => can(permission) === false;
