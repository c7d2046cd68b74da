/** A tenant's outgoing webhooks: list, create (the secret is shown once), change, delete, rotate
 * the secret, send a test, and the delivery log (docs/webhooks.md). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type Webhook = components['schemas']['WebhookOut'];
export type WebhookCreate = components['schemas']['WebhookCreate'];
export type WebhookUpdate = components['schemas']['WebhookUpdate'];
export type DeliveryAttempt = components['schemas']['DeliveryAttemptOut'];

export const webhooksKey = (tenantId: string) => ['tenants', tenantId, 'webhooks'] as const;
const deliveriesKey = (tenantId: string, webhookId: string) => [...webhooksKey(tenantId), webhookId, 'deliveries'] as const;

export function useWebhooks(tenantId: string) {
  return useQuery({
    queryKey: webhooksKey(tenantId),
    queryFn: async () => unwrap(await api.GET('/v1/tenants/{tenant_id}/webhooks', { params: { path: { tenant_id: tenantId } } })),
  });
}

export function useWebhook(tenantId: string, webhookId: string) {
  return useQuery({
    queryKey: [...webhooksKey(tenantId), webhookId],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/webhooks/{webhook_id}', {
          params: { path: { tenant_id: tenantId, webhook_id: webhookId } },
        }),
      ),
  });
}

export function useCreateWebhook(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: WebhookCreate) =>
      unwrap(await api.POST('/v1/tenants/{tenant_id}/webhooks', { params: { path: { tenant_id: tenantId } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: webhooksKey(tenantId) }),
  });
}

export function useUpdateWebhook(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ webhookId, ...body }: WebhookUpdate & { webhookId: string }) =>
      unwrap(
        await api.PATCH('/v1/tenants/{tenant_id}/webhooks/{webhook_id}', {
          params: { path: { tenant_id: tenantId, webhook_id: webhookId } },
          body,
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: webhooksKey(tenantId) }),
  });
}

export function useDeleteWebhook(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (webhookId: string) =>
      unwrap(
        await api.DELETE('/v1/tenants/{tenant_id}/webhooks/{webhook_id}', {
          params: { path: { tenant_id: tenantId, webhook_id: webhookId } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: webhooksKey(tenantId) }),
  });
}

export function useRotateSecret(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (webhookId: string) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/webhooks/{webhook_id}/secret', {
          params: { path: { tenant_id: tenantId, webhook_id: webhookId } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: webhooksKey(tenantId) }),
  });
}

export function useSendTest(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (webhookId: string) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/webhooks/{webhook_id}/test', {
          params: { path: { tenant_id: tenantId, webhook_id: webhookId } },
        }),
      ),
    onSettled: (_data, _error, webhookId) => client.invalidateQueries({ queryKey: deliveriesKey(tenantId, webhookId) }),
  });
}

/** One page of the delivery log; `live` polls every few seconds (after a test, or while retrying). */
export function useDeliveries(tenantId: string, webhookId: string, cursor: string | undefined, live: boolean) {
  return useQuery({
    queryKey: [...deliveriesKey(tenantId, webhookId), cursor ?? ''],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/webhooks/{webhook_id}/deliveries', {
          params: { path: { tenant_id: tenantId, webhook_id: webhookId }, query: { limit: 25, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    refetchInterval: live ? 3000 : false,
  });
}

/** Event types by family ("backup.failed" → "backup"), in the API's order. */
export function groupEvents(types: string[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const type of types) {
    const family = type.split('.', 1)[0] ?? type;
    groups.set(family, [...(groups.get(family) ?? []), type]);
  }
  return [...groups.entries()];
}

/** Send a delivery that ended again (the same event and id, a fresh retry window). */
export function useRedeliver(tenantId: string, webhookId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (deliveryId: string) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver', {
          params: { path: { tenant_id: tenantId, webhook_id: webhookId, delivery_id: deliveryId } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: deliveriesKey(tenantId, webhookId) }),
  });
}
