import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { SelectField, TextField } from '@/components/Field';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { PermissionPicker } from '@/components/PermissionPicker';
import { ApiError, fieldErrors } from '@/lib/errors';
import { formatDate } from '@/lib/format';
import { localToIso } from '@/features/members/api/members';
import { splitList, useApiKeys, useCreateApiKey, useRevokeApiKey, useRotateApiKey, type ApiKey } from '../api/apiKeys';
import { ShownOnce } from '@/components/ShownOnce';

/**
 * The tenant permissions a key can be scoped to (mamba/auth/permissions.py TENANT_PERMISSIONS).
 * A key is the account's, not a tenant's, so there is no tenant role to read the catalogue from
 * here (the roles page reads it from the owner role); a permission the API does not know comes
 * back as details.unknown and is shown next to the checkboxes.
 */
export const KEY_SCOPES = [
  'tenant.read', 'tenant.update',
  'servers.read', 'servers.create', 'servers.update', 'servers.delete', 'servers.power', 'servers.console', 'servers.reinstall',
  'files.read', 'files.write',
  'backups.read', 'backups.create', 'backups.restore', 'backups.delete', 'backups.download',
  'billing.read', 'billing.manage',
  'members.read', 'members.manage',
  'roles.read', 'roles.manage',
  'audit.read', 'operations.read',
  'webhooks.read', 'webhooks.manage',
];

export function ApiKeysSection() {
  const { t } = useTranslation('apiKeys');
  const keys = useApiKeys();
  const revoke = useRevokeApiKey();
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [rotating, setRotating] = useState<ApiKey | null>(null);
  const rotate = useRotateApiKey();
  const [grace, setGrace] = useState('3600');
  const [rotated, setRotated] = useState<{ name: string; key: string; until: string | null } | null>(null);
  const active = (k: ApiKey) => !k.revoked_at && !k.replaced_by && !(k.expires_at && new Date(k.expires_at) <= new Date());
  return (
    <section className="card" aria-label={t('title')}>
      <p className="muted">{t('intro')}</p>
      {rotated && (
        <ShownOnce
          title={t('rotated.title', { name: rotated.name })}
          secret={rotated.key}
          testId="rotated-api-key"
          once={t('created.once')}
          copyLabel={t('created.copy')}
          doneLabel={t('created.done')}
          onDone={() => setRotated(null)}
        >
          <p>{rotated.until ? t('rotated.oldUntil', { when: formatDate(rotated.until) }) : t('rotated.oldNow')}</p>
        </ShownOnce>
      )}
      <CreateKey />
      <h3>{t('list.title')}</h3>
      {keys.isPending ? (
        <Loading label={t('list.loading')} />
      ) : keys.isError ? (
        <ErrorAlert error={keys.error} onRetry={() => void keys.refetch()} />
      ) : keys.data.items.length === 0 ? (
        <Empty>{t('list.empty')}</Empty>
      ) : (
        <>
          {revoke.isError && <ErrorAlert error={revoke.error} />}
          {rotate.isError && <ErrorAlert error={rotate.error} />}
          <table>
            <thead>
              <tr>
                <th scope="col">{t('list.name')}</th>
                <th scope="col">{t('list.key')}</th>
                <th scope="col">{t('list.scopes')}</th>
                <th scope="col">{t('list.lastUsed')}</th>
                <th scope="col">{t('list.expires')}</th>
                <th scope="col">{t('list.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.items.map((k) => (
                <tr key={k.id}>
                  <th scope="row">{k.name}</th>
                  <td>
                    <code>
                      {k.prefix}.…{k.hint}
                    </code>
                  </td>
                  <td>{k.scopes.join(', ')}</td>
                  <td>
                    {k.last_used_at ? t('list.usedFrom', { when: formatDate(k.last_used_at), ip: k.last_used_ip ?? '–' }) : t('list.never')}
                  </td>
                  <td>
                    {k.revoked_at ? t('list.revokedAt', { when: formatDate(k.revoked_at) }) : k.expires_at ? formatDate(k.expires_at) : t('list.noExpiry')}
                    {k.replaced_by && !k.revoked_at && (
                      <>
                        {' '}
                        <span className="badge">{t('list.rotatedOut')}</span>
                      </>
                    )}
                  </td>
                  <td>
                    <div className="button-row">
                      {active(k) && (
                        <button type="button" className="button" data-variant="secondary" aria-label={t('rotateNamed', { name: k.name })} onClick={() => setRotating(k)}>
                          {t('rotate')}
                        </button>
                      )}
                      {!k.revoked_at && (
                        <button type="button" className="button" data-variant="danger" aria-label={t('revokeNamed', { name: k.name })} onClick={() => setRevoking(k)}>
                          {t('revoke')}
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <ConfirmDialog
        isOpen={revoking !== null}
        title={t('revokeTitle', { name: revoking?.name ?? '' })}
        confirmLabel={t('revoke')}
        danger
        busy={revoke.isPending}
        onCancel={() => setRevoking(null)}
        onConfirm={() => revoking && revoke.mutate(revoking.id, { onSettled: () => setRevoking(null) })}
      >
        <p>{t('revokeBody')}</p>
      </ConfirmDialog>
      <ConfirmDialog
        isOpen={rotating !== null}
        title={t('rotateTitle', { name: rotating?.name ?? '' })}
        confirmLabel={t('rotate')}
        busy={rotate.isPending}
        onCancel={() => setRotating(null)}
        onConfirm={() =>
          rotating &&
          rotate.mutate(
            { keyId: rotating.id, graceSeconds: Number(grace) },
            {
              onSuccess: (reply) => setRotated({ name: reply.name, key: reply.key, until: Number(grace) > 0 ? (reply.previous_expires_at ?? null) : null }),
              onSettled: () => setRotating(null),
            },
          )
        }
      >
        <p>{t('rotateBody')}</p>
        <SelectField label={t('grace.label')} value={grace} onChange={(e) => setGrace(e.target.value)} hint={t('grace.hint')}>
          {['0', '900', '3600', '21600', '86400'].map((seconds) => (
            <option key={seconds} value={seconds}>
              {t(`grace.options.${seconds}`)}
            </option>
          ))}
        </SelectField>
      </ConfirmDialog>
    </section>
  );
}

function CreateKey() {
  const { t } = useTranslation('apiKeys');
  const create = useCreateApiKey();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['servers.read']);
  const [servers, setServers] = useState('');
  const [ips, setIps] = useState('');
  const [expires, setExpires] = useState('');
  const [shown, setShown] = useState<{ name: string; key: string } | null>(null);
  const id = useId();
  const errors = fieldErrors(create.error, t);
  const unknown = create.error instanceof ApiError ? (create.error.details.unknown as string[] | undefined) : undefined;
  const scopeError = errors.scopes ?? (unknown?.length ? t('create.unknownScopes', { list: unknown.join(', ') }) : undefined);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setShown(null);
    const serverIds = splitList(servers);
    const allowed = splitList(ips);
    create.mutate(
      {
        name: name.trim(),
        scopes,
        server_ids: serverIds.length ? serverIds : null,
        allowed_ips: allowed.length ? allowed : null,
        expires_at: localToIso(expires),
      },
      {
        onSuccess: (reply) => {
          setShown({ name: reply.name, key: reply.key });
          setName('');
        },
      },
    );
  };

  return (
    <>
      {shown && (
        <ShownOnce
          title={t('created.title', { name: shown.name })}
          secret={shown.key}
          testId="new-api-key"
          once={t('created.once')}
          copyLabel={t('created.copy')}
          doneLabel={t('created.done')}
          onDone={() => setShown(null)}
        />
      )}
      <details>
        <summary>{t('create.title')}</summary>
        <form onSubmit={submit} noValidate aria-label={t('create.title')}>
          <TextField label={t('create.name')} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
          <h4 id={`${id}-scopes`}>{t('create.scopes')}</h4>
          <PermissionPicker catalogue={KEY_SCOPES} selected={scopes} onChange={setScopes} error={scopeError} />
          <TextField label={t('create.servers')} hint={t('create.serversHint')} value={servers} onChange={(e) => setServers(e.target.value)} error={errors.server_ids} />
          <TextField label={t('create.ips')} hint={t('create.ipsHint')} value={ips} onChange={(e) => setIps(e.target.value)} error={errors.allowed_ips} />
          <TextField label={t('create.expires')} type="datetime-local" hint={t('create.expiresHint')} value={expires} onChange={(e) => setExpires(e.target.value)} error={errors.expires_at} />
          {create.isError && Object.keys(errors).length === 0 && !scopeError && <ErrorAlert error={create.error} />}
          <button type="submit" className="button" disabled={create.isPending || !name.trim() || scopes.length === 0}>
            {t('create.submit')}
          </button>
        </form>
      </details>
      {create.isSuccess && !shown && <Notice tone="info">{t('created.hidden')}</Notice>}
    </>
  );
}
