/** Backups of one server and the tenant's backup settings (docs/backups.md). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type Backup = components['schemas']['BackupOut'];
export type Operation = components['schemas']['OperationOut'];
export type BackupSettings = components['schemas']['BackupSettingsOut'];

export const backupsKey = (tenantId: string, serverId: string) => ['tenants', tenantId, 'servers', serverId, 'backups'] as const;
export const backupSettingsKey = (tenantId: string) => ['tenants', tenantId, 'backup-settings'] as const;

/** A backup that is still moving: the list polls while one exists. */
export const BUSY: ReadonlySet<Backup['status']> = new Set(['pending', 'uploading', 'restoring', 'deleting']);

export function useBackups(tenantId: string, serverId: string) {
  return useQuery({
    queryKey: backupsKey(tenantId, serverId),
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}/backups', {
          params: { path: { tenant_id: tenantId, server_id: serverId } },
        }),
      ),
    refetchInterval: (query) => (query.state.data?.items.some((b) => BUSY.has(b.status)) ? 2000 : false),
  });
}

export function useBackupSettings(tenantId: string) {
  return useQuery({
    queryKey: backupSettingsKey(tenantId),
    queryFn: async () =>
      unwrap(await api.GET('/v1/tenants/{tenant_id}/backup-settings', { params: { path: { tenant_id: tenantId } } })),
  });
}

function useInvalidate(tenantId: string, serverId: string) {
  const client = useQueryClient();
  return () =>
    Promise.all([
      client.invalidateQueries({ queryKey: backupsKey(tenantId, serverId) }),
      client.invalidateQueries({ queryKey: backupSettingsKey(tenantId) }),
    ]);
}

export function useCreateBackup(tenantId: string, serverId: string) {
  const invalidate = useInvalidate(tenantId, serverId);
  return useMutation({
    mutationFn: async (body: { name?: string; ignored?: string[] }) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/servers/{server_id}/backups', {
          params: { path: { tenant_id: tenantId, server_id: serverId } },
          body: { name: body.name || null, ignored: body.ignored ?? [] },
        }),
      ),
    onSettled: invalidate,
  });
}

export function useRestoreBackup(tenantId: string, serverId: string) {
  const invalidate = useInvalidate(tenantId, serverId);
  return useMutation({
    mutationFn: async ({ backupId, truncate }: { backupId: string; truncate: boolean }) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/servers/{server_id}/backups/{backup_id}/restore', {
          params: { path: { tenant_id: tenantId, server_id: serverId, backup_id: backupId } },
          body: { truncate },
        }),
      ),
    onSettled: invalidate,
  });
}

export function useDeleteBackup(tenantId: string, serverId: string) {
  const invalidate = useInvalidate(tenantId, serverId);
  return useMutation({
    mutationFn: async (backupId: string) =>
      unwrap(
        await api.DELETE('/v1/tenants/{tenant_id}/servers/{server_id}/backups/{backup_id}', {
          params: { path: { tenant_id: tenantId, server_id: serverId, backup_id: backupId } },
        }),
      ),
    onSettled: invalidate,
  });
}

export function useLockBackup(tenantId: string, serverId: string) {
  const invalidate = useInvalidate(tenantId, serverId);
  return useMutation({
    mutationFn: async ({ backupId, locked }: { backupId: string; locked: boolean }) => {
      const params = { path: { tenant_id: tenantId, server_id: serverId, backup_id: backupId } };
      return locked
        ? unwrap(await api.POST('/v1/tenants/{tenant_id}/servers/{server_id}/backups/{backup_id}/lock', { params }))
        : unwrap(await api.POST('/v1/tenants/{tenant_id}/servers/{server_id}/backups/{backup_id}/unlock', { params }));
    },
    onSettled: invalidate,
  });
}

/** The 5-minute link is signed on click, never kept: it is a bearer URL. */
export function useDownloadBackup(tenantId: string, serverId: string) {
  return useMutation({
    mutationFn: async (backupId: string) =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}/backups/{backup_id}/download', {
          params: { path: { tenant_id: tenantId, server_id: serverId, backup_id: backupId } },
        }),
      ),
  });
}

export function useBackupRotation(tenantId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (rotate: boolean) =>
      unwrap(
        await api.PUT('/v1/tenants/{tenant_id}/backup-settings', {
          params: { path: { tenant_id: tenantId } },
          body: { rotate },
        }),
      ),
    onSuccess: (data) => client.setQueryData(backupSettingsKey(tenantId), data),
  });
}

/** Follow a backup's operation until it ends (create or restore progress). */
export function useOperation(tenantId: string, operationId: string | null) {
  return useQuery({
    queryKey: ['tenants', tenantId, 'operations', operationId],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/operations/{op_id}', {
          params: { path: { tenant_id: tenantId, op_id: operationId as string } },
        }),
      ),
    enabled: operationId !== null,
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      return status === 'succeeded' || status === 'failed' ? false : 1500;
    },
  });
}

// --- backups kept after their server was deleted (locked ones outlive it; docs/backups.md) ---

export const keptBackupsKey = (tenantId: string) => ['tenants', tenantId, 'backups', 'orphaned'] as const;

export function useKeptBackups(tenantId: string) {
  return useQuery({
    queryKey: keptBackupsKey(tenantId),
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/backups', {
          params: { path: { tenant_id: tenantId }, query: { orphaned: true } },
        }),
      ),
    refetchInterval: (query) => (query.state.data?.items.some((b) => BUSY.has(b.status)) ? 2000 : false),
  });
}

function useInvalidateKept(tenantId: string) {
  const client = useQueryClient();
  return () =>
    Promise.all([
      client.invalidateQueries({ queryKey: keptBackupsKey(tenantId) }),
      client.invalidateQueries({ queryKey: backupSettingsKey(tenantId) }),
    ]);
}

export function useUnlockKeptBackup(tenantId: string) {
  const invalidate = useInvalidateKept(tenantId);
  return useMutation({
    mutationFn: async (backupId: string) =>
      unwrap(
        await api.POST('/v1/tenants/{tenant_id}/backups/{backup_id}/unlock', {
          params: { path: { tenant_id: tenantId, backup_id: backupId } },
        }),
      ),
    onSettled: invalidate,
  });
}

export function useDeleteKeptBackup(tenantId: string) {
  const invalidate = useInvalidateKept(tenantId);
  return useMutation({
    mutationFn: async (backupId: string) =>
      unwrap(
        await api.DELETE('/v1/tenants/{tenant_id}/backups/{backup_id}', {
          params: { path: { tenant_id: tenantId, backup_id: backupId } },
        }),
      ),
    onSettled: invalidate,
  });
}

/** The 5-minute link is signed on click, never kept: it is a bearer URL. */
export function useDownloadKeptBackup(tenantId: string) {
  return useMutation({
    mutationFn: async (backupId: string) =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/backups/{backup_id}/download', {
          params: { path: { tenant_id: tenantId, backup_id: backupId } },
        }),
      ),
  });
}
