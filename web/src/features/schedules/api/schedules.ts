/** A server's schedules and their run history (docs/schedules.md). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type Schedule = components['schemas']['ScheduleOut'];
export type ScheduleBody = components['schemas']['ScheduleIn'];
export type SchedulePatch = components['schemas']['SchedulePatch'];
export type Run = components['schemas']['RunOut'];
export type Task = components['schemas']['TaskModel'];
export type Cron = components['schemas']['CronModel'];

export const schedulesKey = (tenantId: string, serverId: string) => ['tenants', tenantId, 'servers', serverId, 'schedules'] as const;
export const runsKey = (tenantId: string, serverId: string, scheduleId: string) =>
  [...schedulesKey(tenantId, serverId), scheduleId, 'runs'] as const;

export function useSchedules(tenantId: string, serverId: string) {
  return useQuery({
    queryKey: schedulesKey(tenantId, serverId),
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}/schedules', {
          params: { path: { tenant_id: tenantId, server_id: serverId } },
        }),
      ),
    // A run under way moves the last outcome on: look again while one runs.
    refetchInterval: (query) => (query.state.data?.items.some((s) => s.last_run?.status === 'running') ? 2000 : false),
  });
}

/** One page of a schedule's runs, newest first; polls while the newest still runs. */
export function useRuns(tenantId: string, serverId: string, scheduleId: string, cursor: string | null) {
  return useQuery({
    queryKey: [...runsKey(tenantId, serverId, scheduleId), cursor ?? ''],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}/schedules/{schedule_id}/runs', {
          params: {
            path: { tenant_id: tenantId, server_id: serverId, schedule_id: scheduleId },
            query: { limit: 10, ...(cursor ? { cursor } : {}) },
          },
        }),
      ),
    refetchInterval: (query) => (query.state.data?.items.some((r) => r.status === 'running') ? 2000 : false),
  });
}

function useInvalidate(tenantId: string, serverId: string) {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: schedulesKey(tenantId, serverId) });
}

export function useCreateSchedule(tenantId: string, serverId: string) {
  const invalidate = useInvalidate(tenantId, serverId);
  return useMutation({
    mutationFn: async (body: ScheduleBody) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/servers/{server_id}/schedules', {
          params: { path: { tenant_id: tenantId, server_id: serverId } },
          body,
        }),
      ),
    onSuccess: invalidate,
  });
}

export function useUpdateSchedule(tenantId: string, serverId: string) {
  const invalidate = useInvalidate(tenantId, serverId);
  return useMutation({
    mutationFn: async ({ scheduleId, body }: { scheduleId: string; body: SchedulePatch }) =>
      unwrap(
        await api.PATCH('/v1/tenants/{tenant_id}/servers/{server_id}/schedules/{schedule_id}', {
          params: { path: { tenant_id: tenantId, server_id: serverId, schedule_id: scheduleId } },
          body,
        }),
      ),
    onSettled: invalidate,
  });
}

export function useDeleteSchedule(tenantId: string, serverId: string) {
  const invalidate = useInvalidate(tenantId, serverId);
  return useMutation({
    mutationFn: async (scheduleId: string) =>
      unwrap(
        await api.DELETE('/v1/tenants/{tenant_id}/servers/{server_id}/schedules/{schedule_id}', {
          params: { path: { tenant_id: tenantId, server_id: serverId, schedule_id: scheduleId } },
        }),
      ),
    onSettled: invalidate,
  });
}

export function useRunSchedule(tenantId: string, serverId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (scheduleId: string) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/servers/{server_id}/schedules/{schedule_id}/run', {
          params: { path: { tenant_id: tenantId, server_id: serverId, schedule_id: scheduleId } },
        }),
      ),
    onSuccess: (_reply, scheduleId) =>
      Promise.all([
        client.invalidateQueries({ queryKey: schedulesKey(tenantId, serverId) }),
        client.invalidateQueries({ queryKey: runsKey(tenantId, serverId, scheduleId) }),
      ]),
  });
}
