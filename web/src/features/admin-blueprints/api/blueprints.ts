/** Blueprints (eggs) for the platform admin: list, preview and import an egg, edit, export, delete. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';

export type Blueprint = components['schemas']['BlueprintOut'];
export type BlueprintPreview = components['schemas']['BlueprintPreview'];
export type BlueprintPatch = components['schemas']['BlueprintPatch'];
export type Variable = components['schemas']['VariableModel'];
/** An egg as read from a file or pasted: the API checks it (PTDL_v1 or PTDL_v2). */
export type Egg = Record<string, unknown>;

export const blueprintsKey = ['admin', 'blueprints'] as const;
export const blueprintKey = (id: string) => ['admin', 'blueprints', id] as const;

export async function fetchBlueprintsPage(cursor: string | undefined) {
  return unwrap(await api.GET('/v1/admin/blueprints', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }));
}

export function useBlueprints(cursor: string | undefined) {
  return useQuery({
    queryKey: [...blueprintsKey, 'page', cursor ?? ''],
    queryFn: () => fetchBlueprintsPage(cursor),
    placeholderData: keepPreviousData,
  });
}

export function useBlueprint(id: string) {
  return useQuery({
    queryKey: blueprintKey(id),
    queryFn: async () => unwrap(await api.GET('/v1/admin/blueprints/{blueprint_id}', { params: { path: { blueprint_id: id } } })),
  });
}

export function usePreviewEgg() {
  return useMutation({
    mutationFn: async (egg: Egg) => unwrap(await api.POST('/v1/admin/blueprints/import/preview', { body: egg })),
  });
}

export function useImportEgg() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (egg: Egg) => unwrap(await api.POST('/v1/admin/blueprints/import', { body: egg })),
    onSuccess: () => client.invalidateQueries({ queryKey: blueprintsKey }),
  });
}

export function useUpdateBlueprint(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: BlueprintPatch) =>
      unwrap(await api.PATCH('/v1/admin/blueprints/{blueprint_id}', { params: { path: { blueprint_id: id } }, body })),
    onSuccess: (saved) => {
      client.setQueryData(blueprintKey(id), saved);
      void client.invalidateQueries({ queryKey: [...blueprintsKey, 'page'] });
    },
  });
}

export function useDeleteBlueprint(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      unwrap(await api.DELETE('/v1/admin/blueprints/{blueprint_id}', { params: { path: { blueprint_id: id } } })),
    onSuccess: () => {
      client.removeQueries({ queryKey: blueprintKey(id) });
      void client.invalidateQueries({ queryKey: [...blueprintsKey, 'page'] });
    },
  });
}

/** The blueprint as a PTDL_v2 egg (asked for on click; the file is made in the browser). */
export async function fetchEgg(id: string): Promise<Record<string, unknown>> {
  // The route declares no response model (an egg is free-form JSON), so its type says nothing.
  const egg: unknown = unwrap(await api.GET('/v1/admin/blueprints/{blueprint_id}/export', { params: { path: { blueprint_id: id } } }));
  return egg as Record<string, unknown>;
}

/** A file name for an exported egg: `egg-<name>.json`, lower case, safe characters only. */
export function eggFilename(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // the accents NFKD split off
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `egg-${slug || 'blueprint'}.json`;
}

/** Parse pasted or uploaded egg text: the object, or null when it is not a JSON object. */
export function parseEgg(text: string): Egg | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Egg) : null;
  } catch {
    return null;
  }
}
