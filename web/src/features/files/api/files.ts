/**
 * Server files: listing, contents and changes through the API; uploads and downloads straight
 * to and from Wings through signed URLs (docs/server-control.md), so large files never pass
 * through the API. XHR rather than fetch for those two: it reports upload progress.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import { api, unwrap } from '@/lib/api';
import { NetworkError } from '@/lib/errors';

export type FileStat = components['schemas']['FileStat'];

const sp = (tenantId: string, serverId: string) => ({ path: { tenant_id: tenantId, server_id: serverId } });
export const filesKey = (tenantId: string, serverId: string) => ['tenants', tenantId, 'servers', serverId, 'files'] as const;

export function joinPath(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, '')}/${name}`.replace(/^\/*/, '/');
}

export function useDirectory(tenantId: string, serverId: string, directory: string) {
  return useQuery({
    queryKey: [...filesKey(tenantId, serverId), 'list', directory],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}/files/list', {
          params: { ...sp(tenantId, serverId), query: { directory } },
        }),
      ),
  });
}

export function useFileContents(tenantId: string, serverId: string, file: string | null) {
  return useQuery({
    queryKey: [...filesKey(tenantId, serverId), 'contents', file],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/tenants/{tenant_id}/servers/{server_id}/files/contents', {
          params: { ...sp(tenantId, serverId), query: { file: file ?? '' } },
        }),
      ),
    enabled: !!file,
    staleTime: Infinity, // the editor owns the text once loaded
    gcTime: 0,
  });
}

/** Every change to the tree, as one hook: each refreshes the listings once it succeeds. */
export function useFileActions(tenantId: string, serverId: string) {
  const client = useQueryClient();
  const params = { params: sp(tenantId, serverId) };
  const refresh = () => client.invalidateQueries({ queryKey: [...filesKey(tenantId, serverId), 'list'] });
  const base = '/v1/tenants/{tenant_id}/servers/{server_id}/files' as const;
  const mutation = <T,>(fn: (input: T) => Promise<unknown>) => useMutation({ mutationFn: fn, onSuccess: refresh });
  return {
    write: mutation(async (body: { path: string; content: string }) => unwrap(await api.POST(`${base}/write`, { ...params, body }))),
    createFolder: mutation(async (body: { root: string; name: string }) =>
      unwrap(await api.POST(`${base}/create-folder`, { ...params, body })),
    ),
    rename: mutation(async (body: { root: string; from: string; to: string }) =>
      unwrap(await api.POST(`${base}/rename`, { ...params, body: { root: body.root, files: [{ from: body.from, to: body.to }] } })),
    ),
    copy: mutation(async (location: string) => unwrap(await api.POST(`${base}/copy`, { ...params, body: { location } }))),
    remove: mutation(async (body: { root: string; files: string[] }) => unwrap(await api.POST(`${base}/delete`, { ...params, body }))),
    compress: mutation(async (body: { root: string; files: string[] }) =>
      unwrap(await api.POST(`${base}/compress`, { ...params, body })),
    ),
    decompress: mutation(async (body: { root: string; file: string }) =>
      unwrap(await api.POST(`${base}/decompress`, { ...params, body })),
    ),
    chmod: mutation(async (body: { root: string; file: string; mode: string }) =>
      unwrap(await api.POST(`${base}/chmod`, { ...params, body: { root: body.root, files: [{ file: body.file, mode: body.mode }] } })),
    ),
    pull: mutation(async (body: { root: string; url: string }) => unwrap(await api.POST(`${base}/pull`, { ...params, body }))),
  };
}

export type Progress = (loaded: number, total: number) => void;

/** Upload one file straight to Wings with a signed URL; reports progress; rejects on failure. */
export async function uploadFile(tenantId: string, serverId: string, directory: string, file: File, onProgress: Progress): Promise<void> {
  const signed = unwrap(
    await api.POST('/v1/tenants/{tenant_id}/servers/{server_id}/files/upload-url', {
      params: sp(tenantId, serverId),
      body: { directory },
    }),
  );
  const form = new FormData();
  form.append('files', file, file.name);
  await new Promise<void>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', signed.url);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new UploadError(xhr.status)));
    xhr.onerror = () => reject(new NetworkError());
    xhr.send(form);
  });
}

/** Download one file straight from Wings with a signed URL, then hand it to the browser. */
export async function downloadFile(tenantId: string, serverId: string, path: string, onProgress: Progress): Promise<void> {
  const signed = unwrap(
    await api.POST('/v1/tenants/{tenant_id}/servers/{server_id}/files/download-url', {
      params: sp(tenantId, serverId),
      body: { path },
    }),
  );
  const blob = await new Promise<Blob>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('GET', signed.url);
    xhr.responseType = 'blob';
    xhr.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve(xhr.response as Blob) : reject(new UploadError(xhr.status)));
    xhr.onerror = () => reject(new NetworkError());
    xhr.send();
  });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = path.split('/').pop() || 'download';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The node refused a signed upload or download (expired link, too large, denied path). */
export class UploadError extends Error {
  constructor(readonly status: number) {
    super(`node answered ${status}`);
    this.name = 'UploadError';
  }
}
