import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { ExportCsvButton } from '@/components/ExportCsvButton';
import { TextField } from '@/components/Field';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import type { CsvColumn } from '@/lib/csv';
import { fieldErrors } from '@/lib/errors';
import {
  fetchAllocationsPage,
  parsePorts,
  useAddAllocations,
  useAllocations,
  useDeleteAllocation,
  useNodeServers,
  type Allocation,
} from '../api/nodes';
import { Pager } from '@/components/Pager';

/** The node's ip:port allocations: add ranges, see which server holds each, delete free ones. */
export function AllocationsSection({ nodeId, defaultIp }: { nodeId: string; defaultIp: string }) {
  const { t } = useTranslation('adminNodes');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const list = useAllocations(nodeId, cursors[cursors.length - 1]);
  // The first page of the node's servers (shared with the servers section) names the holders.
  const servers = useNodeServers(nodeId, undefined);
  const names = new Map((servers.data?.items ?? []).map((s) => [s.uuid, s.name] as const));
  const remove = useDeleteAllocation(nodeId);
  const [deleting, setDeleting] = useState<Allocation | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const columns: CsvColumn<Allocation>[] = [
    { header: 'id', value: (a) => a.id },
    { header: 'ip', value: (a) => a.ip },
    { header: 'port', value: (a) => a.port },
    { header: 'alias', value: (a) => a.alias },
    { header: 'notes', value: (a) => a.notes },
    { header: 'server_id', value: (a) => a.server_id },
    { header: 'server_name', value: (a) => (a.server_id ? names.get(a.server_id) : '') },
    { header: 'created_at', value: (a) => a.created_at },
  ];

  return (
    <section aria-labelledby="allocations-heading">
      <h2 id="allocations-heading">{t('allocations.title')}</h2>
      <AddAllocations nodeId={nodeId} defaultIp={defaultIp} />
      <div className="button-row">
        <ExportCsvButton filename={`node-${nodeId}-allocations`} columns={columns} fetchPage={(c) => fetchAllocationsPage(nodeId, c)} />
      </div>
      {message && <Notice tone="success">{message}</Notice>}
      {remove.isError && <ErrorAlert error={remove.error} />}
      {list.isPending ? (
        <Loading label={t('allocations.loading')} />
      ) : list.isError && !list.data ? (
        <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 && cursors.length === 1 ? (
        <Empty>{t('allocations.empty')}</Empty>
      ) : (
        <>
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">{t('allocations.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('allocations.address')}</th>
                  <th scope="col">{t('allocations.alias')}</th>
                  <th scope="col">{t('allocations.notes')}</th>
                  <th scope="col">{t('allocations.heldBy')}</th>
                  <th scope="col">{t('allocations.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((a) => {
                  const address = `${a.ip}:${a.port}`;
                  return (
                    <tr key={a.id}>
                      <th scope="row">
                        <code>{address}</code>
                      </th>
                      <td>{a.alias ?? ''}</td>
                      <td>{a.notes ?? ''}</td>
                      <td>
                        {a.server_id ? (
                          <Link to={`/admin/servers/${encodeURIComponent(a.server_id)}`}>{names.get(a.server_id) ?? a.server_id}</Link>
                        ) : (
                          <span className="muted">{t('allocations.free')}</span>
                        )}
                      </td>
                      <td>
                        <button
                          type="button"
                          className="button"
                          data-variant="secondary"
                          disabled={a.assigned || remove.isPending}
                          aria-label={t('allocations.deleteNamed', { address })}
                          aria-describedby={a.assigned ? `held-${a.id}` : undefined}
                          onClick={() => {
                            setMessage(null);
                            setDeleting(a);
                          }}
                        >
                          {t('allocations.delete')}
                        </button>
                        {a.assigned && (
                          <span id={`held-${a.id}`} className="visually-hidden">
                            {t('allocations.heldHint')}
                          </span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <p className="muted hint-line">{t('allocations.heldHint')}</p>
          <Pager cursors={cursors} next={list.data.next_cursor} onChange={setCursors} />
        </>
      )}
      <ConfirmDialog
        isOpen={deleting !== null}
        title={t('allocations.deleteTitle', { address: deleting ? `${deleting.ip}:${deleting.port}` : '' })}
        confirmLabel={t('allocations.delete')}
        danger
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() => {
          if (!deleting) return;
          const address = `${deleting.ip}:${deleting.port}`;
          remove.mutate(deleting.id, {
            onSuccess: () => setMessage(t('allocations.deleted', { address })),
            onSettled: () => setDeleting(null),
          });
        }}
      >
        <p>{t('allocations.deleteBody')}</p>
      </ConfirmDialog>
    </section>
  );
}

function AddAllocations({ nodeId, defaultIp }: { nodeId: string; defaultIp: string }) {
  const { t } = useTranslation('adminNodes');
  const add = useAddAllocations(nodeId);
  const [ip, setIp] = useState(/^[\d.:a-fA-F]+$/.test(defaultIp) ? defaultIp : '');
  const [ports, setPorts] = useState('');
  const [alias, setAlias] = useState('');
  const [notes, setNotes] = useState('');
  const [result, setResult] = useState<{ created: number; conflicts: string[] } | null>(null);
  const errors = fieldErrors(add.error, t);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setResult(null);
    add.mutate(
      { ip: ip.trim(), ports: parsePorts(ports), alias: alias.trim() || null, notes: notes.trim() || null },
      {
        onSuccess: (out) => {
          setResult({ created: out.items.length, conflicts: out.conflicts });
          setPorts('');
        },
      },
    );
  };
  return (
    <form className="card node-form" onSubmit={submit} noValidate aria-labelledby="add-allocations-heading">
      <h3 id="add-allocations-heading">{t('allocations.addTitle')}</h3>
      <div className="form-grid">
        <TextField label={t('allocations.ip')} required spellCheck={false} value={ip} onChange={(e) => setIp(e.target.value)} error={errors.ip} />
        <TextField
          label={t('allocations.ports')}
          hint={t('allocations.portsHint')}
          required
          spellCheck={false}
          value={ports}
          onChange={(e) => setPorts(e.target.value)}
          error={errors.ports ?? Object.entries(errors).find(([k]) => k.startsWith('ports.'))?.[1]}
        />
        <TextField label={t('allocations.alias')} hint={t('allocations.aliasHint')} value={alias} onChange={(e) => setAlias(e.target.value)} error={errors.alias} />
        <TextField label={t('allocations.notes')} value={notes} onChange={(e) => setNotes(e.target.value)} error={errors.notes} />
      </div>
      {add.isError && !errors.ip && !errors.ports && !errors.alias && !errors.notes && <ErrorAlert error={add.error} />}
      {result && (
        <Notice tone="success">
          {t('allocations.added', { count: result.created })}
          {result.conflicts.length > 0 && ` ${t('allocations.conflicts', { list: result.conflicts.join(', ') })}`}
        </Notice>
      )}
      <button type="submit" className="button" disabled={add.isPending || !ip.trim() || !ports.trim()}>
        {add.isPending ? t('allocations.adding') : t('allocations.add')}
      </button>
    </form>
  );
}
