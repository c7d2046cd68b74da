/** The tenant's audit log, newest first, with filters (docs/api-keys-2fa-audit.md). */
import { useInfiniteQuery } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type AuditEntry = components['schemas']['AuditEntryOut'];

export interface AuditFilters {
  action: string;
  actor: string;
  result: '' | 'success' | 'denied' | 'error';
  from: string; // ISO or ''
  to: string;
}

/**
 * A filtered page can hold fewer entries than asked for, even none, with more to come
 * (the filter runs while DynamoDB reads); "Load more" follows next_cursor until it is null.
 */
export function useAudit(tenantId: string, filters: AuditFilters) {
  return useInfiniteQuery({
    queryKey: ['tenants', tenantId, 'audit', filters],
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/audit', {
          params: {
            path: { tenant_id: tenantId },
            query: {
              limit: 50,
              cursor: pageParam ?? undefined,
              action: filters.action || undefined,
              actor: filters.actor || undefined,
              result: filters.result || undefined,
              from: filters.from || undefined,
              to: filters.to || undefined,
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}
