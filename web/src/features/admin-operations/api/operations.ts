/** Every tenant's operations, their failures and retries; the Stripe dead letters (docs/operations.md). */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type AdminOperation = components['schemas']['AdminOperationOut'];
export type AdminOperationDetail = components['schemas']['AdminOperationDetailOut'];
export type DeadLetter = components['schemas']['DeadLetterOut'];

export const OPERATION_STATUSES = ['pending', 'running', 'succeeded', 'failed'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export interface OperationFilters {
  status: '' | OperationStatus;
  type: string;
  since: string; // ISO or ''
}

export const NO_OPERATION_FILTERS: OperationFilters = { status: '', type: '', since: '' };

const operationsKey = ['admin', 'operations'] as const;
const deadLettersKey = ['admin', 'dead-letters'] as const;

export async function fetchOperationsPage(filters: OperationFilters, cursor: string | undefined, limit = 100) {
  return unwrap(
    await api.GET('/v1/admin/operations', {
      params: {
        query: {
          limit,
          cursor,
          status: filters.status || undefined,
          type: filters.type || undefined,
          since: filters.since || undefined,
        },
      },
    }),
  );
}

const UNFINISHED = new Set(['pending', 'running']);

/** Newest first; refreshes while an operation on screen is still running. */
export function useAdminOperations(filters: OperationFilters) {
  return useInfiniteQuery({
    queryKey: [...operationsKey, 'list', filters],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => fetchOperationsPage(filters, pageParam ?? undefined, 50),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.items.some((o) => UNFINISHED.has(o.status))) ? 3000 : false,
  });
}

export function useAdminOperation(operationId: string) {
  return useQuery({
    queryKey: [...operationsKey, operationId],
    queryFn: async () =>
      unwrap(await api.GET('/v1/admin/operations/{op_id}', { params: { path: { op_id: operationId } } })),
    refetchInterval: (query) => (query.state.data && UNFINISHED.has(query.state.data.status) ? 1500 : false),
  });
}

export function useRetryOperation(operationId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/v1/admin/operations/{op_id}/retry', { params: { path: { op_id: operationId } } })),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: operationsKey }),
  });
}

export async function fetchDeadLetters() {
  return unwrap(await api.GET('/v1/admin/dead-letters'));
}

export function useDeadLetters() {
  return useQuery({ queryKey: deadLettersKey, queryFn: fetchDeadLetters });
}

export function useRedrive() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/admin/dead-letters/redrive')),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: deadLettersKey }),
  });
}
