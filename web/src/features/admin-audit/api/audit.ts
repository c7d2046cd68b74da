/** The platform audit log, any tenant's log, or the security log (GET /v1/admin/audit). */
import { useInfiniteQuery } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type AuditEntry = components['schemas']['AuditEntryOut'];

export interface PlatformAuditFilters {
  log: 'platform' | 'security';
  tenant_id: string;
  action: string;
  actor: string;
  result: '' | 'success' | 'denied' | 'error';
  from: string; // ISO or ''
  to: string;
}

export const NO_AUDIT_FILTERS: PlatformAuditFilters = {
  log: 'platform',
  tenant_id: '',
  action: '',
  actor: '',
  result: '',
  from: '',
  to: '',
};

export async function fetchAuditPage(filters: PlatformAuditFilters, cursor: string | undefined, limit = 100) {
  return unwrap(
    await api.GET('/v1/admin/audit', {
      params: {
        query: {
          limit,
          cursor,
          log: filters.tenant_id ? undefined : filters.log,
          tenant_id: filters.tenant_id || undefined,
          action: filters.action || undefined,
          actor: filters.actor || undefined,
          result: filters.result || undefined,
          from: filters.from || undefined,
          to: filters.to || undefined,
        },
      },
    }),
  );
}

/** A filtered page may hold fewer entries than asked for, even none ("Load more" goes on). */
export function usePlatformAudit(filters: PlatformAuditFilters) {
  return useInfiniteQuery({
    queryKey: ['admin', 'audit', filters],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => fetchAuditPage(filters, pageParam ?? undefined, 50),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}
