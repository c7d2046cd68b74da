/** Plans for the platform admin: list, create, change quotas and Stripe prices, archive (active = false). */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type Plan = components['schemas']['PlanOut'];
export type PlanCreate = components['schemas']['PlanCreate'];
export type PlanUpdate = components['schemas']['PlanUpdate'];
export type Quotas = components['schemas']['QuotasModel'];
export type MeteredPrice = components['schemas']['MeteredPriceModel'];

export const plansKey = ['admin', 'plans'] as const;

export async function fetchPlansPage(cursor: string | undefined) {
  return unwrap(await api.GET('/v1/admin/plans', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }));
}

export function usePlans(cursor: string | undefined) {
  return useQuery({ queryKey: [...plansKey, cursor ?? ''], queryFn: () => fetchPlansPage(cursor), placeholderData: keepPreviousData });
}

export function useCreatePlan() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: PlanCreate) => unwrap(await api.POST('/v1/admin/plans', { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: plansKey }),
  });
}

export function useUpdatePlan() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ id, body }: { id: string; body: PlanUpdate }) =>
      unwrap(await api.PATCH('/v1/admin/plans/{plan_id}', { params: { path: { plan_id: id } }, body })),
    onSuccess: () => client.invalidateQueries({ queryKey: plansKey }),
  });
}

export const GIB = 1024 ** 3;

/** A quota figure as shown: -1 (or any negative) is unlimited. */
export function isUnlimited(value: number): boolean {
  return value < 0;
}

/** "9.99" → 999 minor units; NaN for text that is not an amount. */
export function toMinorUnits(text: string): number {
  const normalised = text.trim().replace(',', '.');
  if (!/^\d+(\.\d{1,2})?$/.test(normalised)) return Number.NaN;
  return Math.round(Number(normalised) * 100);
}

export function fromMinorUnits(cents: number): string {
  return (cents / 100).toFixed(2);
}
