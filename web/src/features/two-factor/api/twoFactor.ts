/** Two-factor authentication of the signed-in user (docs/api-keys-2fa-audit.md). */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api';

export const twoFactorKey = ['me', '2fa'] as const;

export function useTwoFactor() {
  return useQuery({ queryKey: twoFactorKey, queryFn: async () => unwrap(await api.GET('/v1/me/2fa')) });
}

export function useEnrol() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/me/2fa/enrol')),
    onSettled: () => client.invalidateQueries({ queryKey: twoFactorKey }),
  });
}

export function useConfirm() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (code: string) => unwrap(await api.POST('/v1/me/2fa/confirm', { body: { code } })),
    onSuccess: () => Promise.all([client.invalidateQueries({ queryKey: twoFactorKey }), client.invalidateQueries({ queryKey: ['me'] })]),
  });
}

export function useDisable() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: { code?: string; recovery_code?: string; password?: string }) =>
      unwrap(await api.POST('/v1/me/2fa/disable', { body })),
    onSuccess: () => Promise.all([client.invalidateQueries({ queryKey: twoFactorKey }), client.invalidateQueries({ queryKey: ['me'] })]),
  });
}

/** "123 456" or "123-456" as typed from an app, as the API wants it. */
export function normaliseCode(value: string): string {
  return value.replace(/[\s-]/g, '');
}
