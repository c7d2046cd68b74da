/** The auth mutations (sign up, sign in, verify, forgot/reset password, accept an invitation). */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { adoptTokens, api, unwrap } from '@/lib/api';

type LoginIn = components['schemas']['LoginIn'];
type RegisterIn = components['schemas']['RegisterIn'];

export function useSignIn() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: LoginIn) => unwrap(await api.POST('/v1/auth/login', { body })),
    onSuccess: (tokens) => {
      client.clear();
      adoptTokens(tokens);
    },
  });
}

export function useSignUp() {
  return useMutation({
    mutationFn: async (body: RegisterIn) => unwrap(await api.POST('/v1/auth/register', { body })),
  });
}

export function useVerifyEmail() {
  return useMutation({
    mutationFn: async (token: string) => unwrap(await api.POST('/v1/auth/verify-email', { body: { token } })),
  });
}

export function useForgotPassword() {
  return useMutation({
    mutationFn: async (email: string) => unwrap(await api.POST('/v1/auth/password/forgot', { body: { email } })),
  });
}

export function useResetPassword() {
  return useMutation({
    mutationFn: async (body: { token: string; password: string }) =>
      unwrap(await api.POST('/v1/auth/password/reset', { body })),
  });
}

export function useAcceptInvitation() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (token: string) => unwrap(await api.POST('/v1/invitations/accept', { body: { token } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['tenants'] }),
  });
}
