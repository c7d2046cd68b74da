/** A tenant's billing: summary, public plans, Checkout, portal, invoices, credits (docs/billing.md). */
import { useMutation, useQuery } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type Billing = components['schemas']['BillingOut'];
export type PublicPlan = components['schemas']['PublicPlanOut'];

export const billingKey = (tenantId: string) => ['tenants', tenantId, 'billing'] as const;

/** Subscription states in which Checkout answers 409: the plan is changed in the portal. */
export const SUBSCRIBED = new Set(['active', 'trialing', 'past_due', 'unpaid', 'paused']);

export function useBilling(tenantId: string, options: { pollUntilPaid?: boolean } = {}) {
  return useQuery({
    queryKey: billingKey(tenantId),
    queryFn: async () =>
      unwrap(await api.GET('/v1/tenants/{tenant_id}/billing', { params: { path: { tenant_id: tenantId } } })),
    // After Checkout the webhook, not the redirect, changes the plan: look again until it has.
    refetchInterval: (query) =>
      options.pollUntilPaid && query.state.data && !SUBSCRIBED.has(query.state.data.status) && query.state.dataUpdateCount < 60
        ? 2000
        : false,
  });
}

export function usePlans() {
  return useQuery({ queryKey: ['plans'], queryFn: async () => unwrap(await api.GET('/v1/plans')), staleTime: 300_000 });
}

export function useInvoices(tenantId: string) {
  return useQuery({
    queryKey: [...billingKey(tenantId), 'invoices'],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/billing/invoices', {
          params: { path: { tenant_id: tenantId }, query: { limit: 24 } },
        }),
      ),
  });
}

export function useCredits(tenantId: string) {
  return useQuery({
    queryKey: [...billingKey(tenantId), 'credits'],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/billing/credits', {
          params: { path: { tenant_id: tenantId }, query: { limit: 50 } },
        }),
      ),
  });
}

/** Stripe's pages are another origin: the browser goes there and comes back to the return page. */
function go(url: string) {
  window.location.assign(url);
}

export function useCheckout(tenantId: string) {
  return useMutation({
    mutationFn: async (planId: string) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/billing/checkout', {
          params: { path: { tenant_id: tenantId } },
          body: { plan_id: planId },
        }),
      ),
    onSuccess: (reply) => go(reply.url),
  });
}

export function usePortal(tenantId: string) {
  return useMutation({
    mutationFn: async (flow?: 'payment_method_update' | 'subscription_cancel' | 'subscription_update') =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/billing/portal', {
          params: { path: { tenant_id: tenantId } },
          body: { flow: flow ?? null },
        }),
      ),
    onSuccess: (reply) => go(reply.url),
  });
}

export function useBuyCredit(tenantId: string) {
  return useMutation({
    mutationFn: async ({ amountCents, currency }: { amountCents: number; currency: string }) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/billing/credits/checkout', {
          params: { path: { tenant_id: tenantId } },
          body: { amount_cents: amountCents, currency },
        }),
      ),
    onSuccess: (reply) => go(reply.url),
  });
}
