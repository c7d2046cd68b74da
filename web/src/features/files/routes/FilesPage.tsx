import { lazy, Suspense, useId, useState, type FormEvent } from 'react';
import { Button, Menu, MenuItem, MenuTrigger, Popover } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { ServerTabs } from '@/features/servers/components/ServerTabs';
import { useServer } from '@/features/servers/api/servers';
import { ApiError, describeError, fieldErrors } from '@/lib/errors';
import { formatBytes, formatDate } from '@/lib/format';
import { PromptDialog } from '../components/PromptDialog';
import { downloadFile, joinPath, uploadFile, UploadError, useDirectory, useFileActions, useFileContents, type FileStat } from '../api/files';

const Editor = lazy(() => import('../components/Editor'));
const ARCHIVE = /\.(zip|tar|tar\.gz|tgz|gz|rar|7z|tar\.xz|xz|bz2|tar\.bz2)$/i;

type Pending =
  | { kind: 'rename' | 'copy' | 'chmod' | 'delete'; entry: FileStat }
  | null;

interface Transfer {
  id: string;
  name: string;
  kind: 'upload' | 'download';
  loaded: number;
  total: number;
  error?: string;
  done?: boolean;
}

function Breadcrumbs({ base, directory }: { base: string; directory: string }) {
  const { t } = useTranslation();
  const parts = directory.split('/').filter(Boolean);
  return (
    <nav className="breadcrumbs" aria-label={t('files:breadcrumbs')}>
      <ol>
        <li>
          <Link to={base} aria-current={parts.length === 0 ? 'page' : undefined}>
            {t('files:root')}
          </Link>
        </li>
        {parts.map((part, i) => (
          <li key={i}>
            <Link to={`${base}/${parts.slice(0, i + 1).map(encodeURIComponent).join('/')}`} aria-current={i === parts.length - 1 ? 'page' : undefined}>
              {part}
            </Link>
          </li>
        ))}
      </ol>
    </nav>
  );
}

function FileEditor({ tenantId, serverId, path, onClose }: { tenantId: string; serverId: string; path: string; onClose: () => void }) {
  const { t } = useTranslation();
  const contents = useFileContents(tenantId, serverId, path);
  const { write } = useFileActions(tenantId, serverId);
  const [text, setText] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const hintId = useId();
  const save = (value: string) => {
    setSaved(false);
    write.mutate({ path, content: value }, { onSuccess: () => setSaved(true) });
  };
  if (contents.isPending) return <Loading />;
  if (contents.isError) {
    const locked = contents.error instanceof ApiError && contents.error.code === 'FILE_DENIED';
    return locked ? <Notice tone="warning">🔒 {t('files:locked')}</Notice> : <ErrorAlert error={contents.error} onRetry={() => contents.refetch()} />;
  }
  if (contents.data.encoding !== 'utf-8') return <Notice tone="info">{t('files:editor.binary')}</Notice>;
  return (
    <section aria-labelledby={`${hintId}-h`}>
      <h2 id={`${hintId}-h`}>{t('files:editor.title', { path })}</h2>
      <p id={hintId} className="muted">
        {t('files:editor.hint')}
      </p>
      <Suspense fallback={<Loading label={t('files:editor.loading')} />}>
        <Editor
          path={path}
          initial={contents.data.content}
          label={t('files:editor.label', { path })}
          describedBy={hintId}
          onChange={(value) => {
            setText(value);
            setSaved(false);
          }}
          onSave={save}
        />
      </Suspense>
      <div className="button-row">
        <button type="button" className="button" disabled={write.isPending} onClick={() => save(text ?? contents.data.content)}>
          {write.isPending ? t('common:state.saving') : t('common:actions.save')}
        </button>
        <button type="button" className="button" data-variant="secondary" onClick={onClose}>
          {t('common:actions.close')}
        </button>
        <span role="status">{saved ? t('files:editor.saved') : ''}</span>
      </div>
      {write.error && <ErrorAlert error={write.error} />}
    </section>
  );
}

export function FilesPage() {
  const { t } = useTranslation();
  const { tenantId = '', serverId = '', '*': splat = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const directory = `/${splat}`.replace(/\/+$/, '') || '/';
  const base = `/t/${tenantId}/servers/${serverId}/files`;
  const server = useServer(tenantId, serverId);
  const listing = useDirectory(tenantId, serverId, directory);
  const actions = useFileActions(tenantId, serverId);
  const [pending, setPending] = useState<Pending>(null);
  const [folder, setFolder] = useState('');
  const [pullUrl, setPullUrl] = useState('');
  const [transfers, setTransfers] = useState<Transfer[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const openFile = params.get('open');
  const uploadId = useId();

  const track = (id: string, patch: Partial<Transfer>) =>
    setTransfers((all) => all.map((x) => (x.id === id ? { ...x, ...patch } : x)));
  const transferError = (error: unknown) =>
    error instanceof UploadError ? t('files:transfer.refused', { status: error.status }) : describeError(error, t);

  const upload = async (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) {
      const id = `${Date.now()}-${file.name}`;
      setTransfers((all) => [...all, { id, name: file.name, kind: 'upload', loaded: 0, total: file.size }]);
      try {
        await uploadFile(tenantId, serverId, directory, file, (loaded, total) => track(id, { loaded, total }));
        track(id, { done: true, loaded: file.size });
      } catch (error) {
        track(id, { error: transferError(error) });
      }
    }
    void listing.refetch();
  };
  const download = async (entry: FileStat) => {
    const id = `${Date.now()}-${entry.name}`;
    setTransfers((all) => [...all, { id, name: entry.name, kind: 'download', loaded: 0, total: entry.size ?? 0 }]);
    try {
      await downloadFile(tenantId, serverId, joinPath(directory, entry.name), (loaded, total) => track(id, { loaded, total: total || entry.size || 0 }));
      track(id, { done: true });
    } catch (error) {
      track(id, { error: transferError(error) });
    }
  };

  const onAction = (entry: FileStat, key: string) => {
    const root = directory;
    if (key === 'download') void download(entry);
    else if (key === 'compress') actions.compress.mutate({ root, files: [entry.name] }, { onSuccess: () => setNotice(t('files:compressed', { name: entry.name })) });
    else if (key === 'decompress') actions.decompress.mutate({ root, file: entry.name }, { onSuccess: () => setNotice(t('files:decompressed', { name: entry.name })) });
    else setPending({ kind: key as 'rename', entry });
  };

  const createFolder = (event: FormEvent) => {
    event.preventDefault();
    if (folder.trim()) actions.createFolder.mutate({ root: directory, name: folder.trim() }, { onSuccess: () => setFolder('') });
  };
  const pull = (event: FormEvent) => {
    event.preventDefault();
    if (pullUrl.trim())
      actions.pull.mutate({ root: directory, url: pullUrl.trim() }, { onSuccess: () => (setPullUrl(''), setNotice(t('files:pullStarted'))) });
  };

  const locked = listing.error instanceof ApiError && listing.error.code === 'FILE_DENIED';
  const entries = [...(listing.data?.items ?? [])].sort(
    (a, b) => Number(!!b.directory) - Number(!!a.directory) || a.name.localeCompare(b.name),
  );
  const mutationError = [actions.createFolder, actions.rename, actions.copy, actions.remove, actions.compress, actions.decompress, actions.chmod, actions.pull].find((m) => m.error)?.error;

  return (
    <>
      <PageTitle title={t('files:title')}>{server.data ? t('files:heading', { name: server.data.name }) : t('files:title')}</PageTitle>
      <ServerTabs tenantId={tenantId} serverId={serverId} />
      {openFile ? (
        <FileEditor tenantId={tenantId} serverId={serverId} path={openFile} onClose={() => setParams({})} />
      ) : (
        <>
          <Breadcrumbs base={base} directory={directory} />
          <div className="toolbar">
            <form onSubmit={createFolder}>
              <TextField label={t('files:newFolder')} value={folder} onChange={(e) => setFolder(e.target.value)} maxLength={255} error={fieldErrors(actions.createFolder.error, t).name} />
              <button type="submit" className="button" data-variant="secondary" disabled={actions.createFolder.isPending}>
                {t('files:create')}
              </button>
            </form>
            <div className="field">
              <label htmlFor={uploadId}>{t('files:upload')}</label>
              <input id={uploadId} type="file" multiple onChange={(e) => void upload(e.target.files).then(() => (e.target.value = ''))} />
            </div>
            <form onSubmit={pull}>
              <TextField label={t('files:pullUrl')} type="url" value={pullUrl} onChange={(e) => setPullUrl(e.target.value)} error={fieldErrors(actions.pull.error, t).url} />
              <button type="submit" className="button" data-variant="secondary" disabled={actions.pull.isPending}>
                {t('files:pull')}
              </button>
            </form>
          </div>
          {transfers.length > 0 && (
            <ul className="card" aria-label={t('files:transfer.label')}>
              {transfers.map((x) => (
                <li key={x.id}>
                  <label>
                    {t(`files:transfer.${x.kind}`, { name: x.name })}{' '}
                    {x.error ? (
                      <span className="field-error">{x.error}</span>
                    ) : x.done ? (
                      t('files:transfer.done')
                    ) : (
                      <progress max={x.total || 1} value={x.loaded}>
                        {formatBytes(x.loaded)}
                      </progress>
                    )}
                  </label>
                </li>
              ))}
            </ul>
          )}
          {notice && <Notice tone="success">{notice}</Notice>}
          {mutationError != null && <ErrorAlert error={mutationError} />}
          {listing.isPending && <Loading />}
          {locked && <Notice tone="warning">🔒 {t('files:lockedFolder')}</Notice>}
          {listing.isError && !locked && <ErrorAlert error={listing.error} onRetry={() => listing.refetch()} />}
          {listing.isSuccess && entries.length === 0 && <Empty>{t('files:empty')}</Empty>}
          {entries.length > 0 && (
            <table>
              <caption className="visually-hidden">{t('files:tableCaption', { directory })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('files:name')}</th>
                  <th scope="col">{t('files:size')}</th>
                  <th scope="col">{t('files:modified')}</th>
                  <th scope="col">{t('files:mode')}</th>
                  <th scope="col">{t('files:actions')}</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <tr key={entry.name}>
                    <td>
                      {entry.directory ? (
                        <Link to={`${base}${joinPath(directory, entry.name).split('/').map(encodeURIComponent).join('/')}`}>
                          📁 {entry.name}
                        </Link>
                      ) : (
                        <button type="button" className="link-button" onClick={() => setParams({ open: joinPath(directory, entry.name) })}>
                          {entry.name}
                        </button>
                      )}
                    </td>
                    <td>{entry.directory ? '—' : formatBytes(entry.size ?? 0)}</td>
                    <td>{entry.modified ? formatDate(entry.modified) : '—'}</td>
                    <td>
                      <code>{entry.mode ?? ''}</code>
                    </td>
                    <td>
                      <MenuTrigger>
                        <Button className="button" data-variant="secondary" aria-label={t('files:actionsFor', { name: entry.name })}>
                          {t('files:actions')} ▾
                        </Button>
                        <Popover>
                          <Menu className="menu" onAction={(key) => onAction(entry, String(key))}>
                            {!entry.directory && <MenuItem id="download">{t('files:download')}</MenuItem>}
                            <MenuItem id="rename">{t('files:rename')}</MenuItem>
                            {!entry.directory && <MenuItem id="copy">{t('files:copy')}</MenuItem>}
                            <MenuItem id="compress">{t('files:compress')}</MenuItem>
                            {ARCHIVE.test(entry.name) && <MenuItem id="decompress">{t('files:decompress')}</MenuItem>}
                            <MenuItem id="chmod">{t('files:chmod')}</MenuItem>
                            <MenuItem id="delete">{t('files:delete')}</MenuItem>
                          </Menu>
                        </Popover>
                      </MenuTrigger>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <PromptDialog
            isOpen={pending?.kind === 'rename'}
            title={t('files:renameTitle', { name: pending?.entry.name ?? '' })}
            label={t('files:newName')}
            initial={pending?.entry.name ?? ''}
            submitLabel={t('files:rename')}
            busy={actions.rename.isPending}
            onCancel={() => setPending(null)}
            onSubmit={(to) => pending && actions.rename.mutate({ root: directory, from: pending.entry.name, to }, { onSuccess: () => setPending(null) })}
          />
          <PromptDialog
            isOpen={pending?.kind === 'chmod'}
            title={t('files:chmodTitle', { name: pending?.entry.name ?? '' })}
            label={t('files:modeLabel')}
            hint={t('files:modeHint')}
            initial={pending?.entry.mode_bits ?? '644'}
            submitLabel={t('files:chmod')}
            busy={actions.chmod.isPending}
            onCancel={() => setPending(null)}
            onSubmit={(mode) => pending && actions.chmod.mutate({ root: directory, file: pending.entry.name, mode }, { onSuccess: () => setPending(null) })}
          />
          <ConfirmDialog
            isOpen={pending?.kind === 'copy'}
            title={t('files:copyTitle', { name: pending?.entry.name ?? '' })}
            confirmLabel={t('files:copy')}
            busy={actions.copy.isPending}
            onCancel={() => setPending(null)}
            onConfirm={() => pending && actions.copy.mutate(joinPath(directory, pending.entry.name), { onSuccess: () => setPending(null) })}
          >
            <p>{t('files:copyText')}</p>
          </ConfirmDialog>
          <ConfirmDialog
            isOpen={pending?.kind === 'delete'}
            danger
            title={t('files:deleteTitle', { name: pending?.entry.name ?? '' })}
            confirmLabel={t('files:delete')}
            busy={actions.remove.isPending}
            onCancel={() => setPending(null)}
            onConfirm={() => pending && actions.remove.mutate({ root: directory, files: [pending.entry.name] }, { onSuccess: () => setPending(null) })}
          >
            <p>{pending?.entry.directory ? t('files:deleteFolderText') : t('files:deleteText')}</p>
          </ConfirmDialog>
        </>
      )}
    </>
  );
}
