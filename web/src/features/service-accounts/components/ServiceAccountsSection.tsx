import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { ShownOnce } from '@/components/ShownOnce';
import { GrantCells } from '@/features/members/components/GrantCells';
import { SelectField, TextField } from '@/components/Field';
import { PermissionPicker } from '@/components/PermissionPicker';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { splitList } from '@/features/api-keys/api/apiKeys';
import { isoToLocal, localToIso, useServerChoices } from '@/features/members/api/members';
import { denied, useCan } from '@/features/roles/api/can';
import { useRoles } from '@/features/roles/api/roles';
import { fieldErrors } from '@/lib/errors';
import { formatDate } from '@/lib/format';
import {
  MAX_ACTIVE_KEYS,
  isActive,
  useCreateServiceAccount,
  useCreateServiceKey,
  useDeleteServiceAccount,
  useRevokeServiceKey,
  useServiceAccounts,
  useServiceKeys,
  useUpdateServiceAccount,
  type ServiceAccount,
  type ServiceKey,
} from '../api/serviceAccounts';

/**
 * Service accounts in the tenant's access page: identities for automation, each with a role
 * binding like a member's and at most two active keys (make the second, put it in place,
 * revoke the first: a rotation without downtime).
 */
export function ServiceAccountsSection({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('serviceAccounts');
  const accounts = useServiceAccounts(tenantId);
  const remove = useDeleteServiceAccount(tenantId);
  const can = useCan(tenantId);
  const manage = !denied(can, 'members.manage');
  const [open, setOpen] = useState<string | null>(null);
  const [removing, setRemoving] = useState<ServiceAccount | null>(null);
  const [editing, setEditing] = useState<ServiceAccount | null>(null);
  const servers = useServerChoices(tenantId);
  const serverName = (id: string) => servers.data?.find((s) => s.id === id)?.name ?? id;
  return (
    <section className="card" id="service-accounts" aria-labelledby="service-accounts-heading">
      <h2 id="service-accounts-heading">{t('title')}</h2>
      <p className="muted">{t('intro')}</p>
      {manage && <CreateAccount tenantId={tenantId} />}
      {accounts.isPending ? (
        <Loading label={t('list.loading')} />
      ) : accounts.isError ? (
        <ErrorAlert error={accounts.error} onRetry={() => void accounts.refetch()} />
      ) : accounts.data.items.length === 0 ? (
        <Empty>{t('list.empty')}</Empty>
      ) : (
        <>
          {remove.isError && <ErrorAlert error={remove.error} />}
          <table>
            <thead>
              <tr>
                <th scope="col">{t('list.name')}</th>
                <th scope="col">{t('list.role')}</th>
                <th scope="col">{t('list.scope')}</th>
                <th scope="col">{t('list.expires')}</th>
                <th scope="col">{t('list.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {accounts.data.items.map((a) => (
                <tr key={a.id}>
                  <th scope="row">
                    {a.name}
                    {a.description && <div className="muted">{a.description}</div>}
                  </th>
                  <GrantCells
                    grant={a}
                    serverName={serverName}
                    wholeTenant={t('list.wholeTenant')}
                    never={t('list.never')}
                    expired={t('list.expired')}
                  />
                  <td>
                    <div className="button-row">
                      <button
                        type="button"
                        className="button"
                        data-variant="secondary"
                        aria-expanded={open === a.id}
                        aria-label={t('list.keysNamed', { name: a.name })}
                        onClick={() => setOpen(open === a.id ? null : a.id)}
                      >
                        {t('list.keys')}
                      </button>
                      <button
                        type="button"
                        className="button"
                        data-variant="secondary"
                        aria-label={t('list.changeNamed', { name: a.name })}
                        disabled={!manage}
                        onClick={() => setEditing(a)}
                      >
                        {t('list.change')}
                      </button>
                      <button
                        type="button"
                        className="button"
                        data-variant="danger"
                        aria-label={t('list.deleteNamed', { name: a.name })}
                        disabled={!manage}
                        onClick={() => setRemoving(a)}
                      >
                        {t('list.delete')}
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {editing && <EditAccount key={editing.id} tenantId={tenantId} account={editing} onDone={() => setEditing(null)} />}
          {accounts.data.items
            .filter((a) => a.id === open)
            .map((a) => (
              <AccountKeys key={a.id} tenantId={tenantId} account={a} manage={manage} />
            ))}
        </>
      )}
      <ConfirmDialog
        isOpen={removing !== null}
        title={t('deleteTitle', { name: removing?.name ?? '' })}
        confirmLabel={t('list.delete')}
        danger
        busy={remove.isPending}
        onCancel={() => setRemoving(null)}
        onConfirm={() =>
          removing &&
          remove.mutate(removing.id, {
            onSettled: () => {
              if (open === removing.id) setOpen(null);
              setRemoving(null);
            },
          })
        }
      >
        <p>{t('deleteBody')}</p>
      </ConfirmDialog>
    </section>
  );
}

interface BindingDraft {
  role: string;
  serverId: string;
  expires: string; // datetime-local value, '' = never
}

/** Role (never owner: it would count as one of the tenant's owners), server scope and expiry. */
function BindingFields({
  tenantId,
  value,
  onChange,
  errors,
}: {
  tenantId: string;
  value: BindingDraft;
  onChange: (next: BindingDraft) => void;
  errors: Record<string, string>;
}) {
  const { t } = useTranslation('serviceAccounts');
  const roles = useRoles(tenantId);
  const servers = useServerChoices(tenantId);
  const choices = (roles.data?.items ?? [{ id: value.role, name: value.role, builtin: true }]).filter((r) => r.id !== 'owner');
  return (
    <>
      <SelectField label={t('create.role')} value={value.role} onChange={(e) => onChange({ ...value, role: e.target.value })} error={errors.role}>
        {choices.map((r) => (
          <option key={r.id} value={r.id}>
            {r.builtin ? t(`roles:builtin.${r.id}`, { defaultValue: r.name }) : r.name}
          </option>
        ))}
      </SelectField>
      <SelectField label={t('create.scope')} value={value.serverId} onChange={(e) => onChange({ ...value, serverId: e.target.value })} error={errors.server_id}>
        <option value="">{t('list.wholeTenant')}</option>
        {(servers.data ?? []).map((s) => (
          <option key={s.id} value={s.id}>
            {t('create.onlyServer', { name: s.name })}
          </option>
        ))}
      </SelectField>
      <TextField
        label={t('create.expires')}
        type="datetime-local"
        hint={t('create.expiresHint')}
        value={value.expires}
        onChange={(e) => onChange({ ...value, expires: e.target.value })}
        error={errors.expires_at}
      />
    </>
  );
}

function EditAccount({ tenantId, account, onDone }: { tenantId: string; account: ServiceAccount; onDone: () => void }) {
  const { t } = useTranslation('serviceAccounts');
  const update = useUpdateServiceAccount(tenantId);
  const [name, setName] = useState(account.name);
  const [binding, setBinding] = useState<BindingDraft>({
    role: account.role,
    serverId: account.server_id ?? '',
    expires: isoToLocal(account.expires_at),
  });
  const errors = fieldErrors(update.error, t);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate(
      {
        accountId: account.id,
        body: { name: name.trim(), role: binding.role, server_id: binding.serverId || null, expires_at: localToIso(binding.expires) },
      },
      { onSuccess: onDone },
    );
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="edit-service-account-heading" noValidate>
      <h3 id="edit-service-account-heading" tabIndex={-1} ref={heading}>
        {t('edit.title', { name: account.name })}
      </h3>
      <TextField label={t('create.name')} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
      <BindingFields tenantId={tenantId} value={binding} onChange={setBinding} errors={errors} />
      {update.isError && Object.keys(errors).length === 0 && <ErrorAlert error={update.error} />}
      <div className="button-row">
        <button type="submit" className="button" disabled={update.isPending || !name.trim()}>
          {t('edit.save')}
        </button>
        <button type="button" className="button" data-variant="secondary" onClick={onDone}>
          {t('common:actions.cancel')}
        </button>
      </div>
    </form>
  );
}

function CreateAccount({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('serviceAccounts');
  const create = useCreateServiceAccount(tenantId);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [binding, setBinding] = useState<BindingDraft>({ role: 'viewer', serverId: '', expires: '' });
  const errors = fieldErrors(create.error, t);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      {
        name: name.trim(),
        description: description.trim() || null,
        role: binding.role,
        server_id: binding.serverId || null,
        expires_at: localToIso(binding.expires),
      },
      { onSuccess: () => setName('') },
    );
  };
  return (
    <details>
      <summary>{t('create.title')}</summary>
      <form onSubmit={submit} noValidate aria-label={t('create.title')}>
        <TextField label={t('create.name')} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
        <TextField
          label={t('create.description')}
          maxLength={200}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          error={errors.description}
        />
        <BindingFields tenantId={tenantId} value={binding} onChange={setBinding} errors={errors} />
        {create.isError && Object.keys(errors).length === 0 && <ErrorAlert error={create.error} />}
        <button type="submit" className="button" disabled={create.isPending || !name.trim()}>
          {t('create.submit')}
        </button>
      </form>
      {create.isSuccess && <Notice tone="info">{t('create.done', { name: create.data.name })}</Notice>}
    </details>
  );
}

function AccountKeys({ tenantId, account, manage }: { tenantId: string; account: ServiceAccount; manage: boolean }) {
  const { t } = useTranslation('serviceAccounts');
  const keys = useServiceKeys(tenantId, account.id);
  const revoke = useRevokeServiceKey(tenantId, account.id);
  const [revoking, setRevoking] = useState<ServiceKey | null>(null);
  const active = keys.data?.items.filter((k) => isActive(k)).length ?? 0;
  return (
    <section className="card" aria-label={t('keys.title', { name: account.name })}>
      <h3>{t('keys.title', { name: account.name })}</h3>
      <p className="muted">{t('keys.intro', { max: MAX_ACTIVE_KEYS })}</p>
      {manage && <CreateKey tenantId={tenantId} account={account} full={active >= MAX_ACTIVE_KEYS} />}
      {keys.isPending ? (
        <Loading label={t('keys.loading')} />
      ) : keys.isError ? (
        <ErrorAlert error={keys.error} onRetry={() => void keys.refetch()} />
      ) : keys.data.items.length === 0 ? (
        <Empty>{t('keys.empty')}</Empty>
      ) : (
        <>
          {revoke.isError && <ErrorAlert error={revoke.error} />}
          <table>
            <thead>
              <tr>
                <th scope="col">{t('keys.name')}</th>
                <th scope="col">{t('keys.key')}</th>
                <th scope="col">{t('keys.scopes')}</th>
                <th scope="col">{t('keys.lastUsed')}</th>
                <th scope="col">{t('keys.expires')}</th>
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
                  <td>{k.last_used_at ? t('keys.usedFrom', { when: formatDate(k.last_used_at), ip: k.last_used_ip ?? '–' }) : t('keys.never')}</td>
                  <td>
                    {k.revoked_at
                      ? t('keys.revokedAt', { when: formatDate(k.revoked_at) })
                      : k.expires_at
                        ? formatDate(k.expires_at)
                        : t('keys.noExpiry')}
                  </td>
                  <td>
                    {!k.revoked_at && (
                      <button
                        type="button"
                        className="button"
                        data-variant="danger"
                        disabled={!manage}
                        aria-label={t('keys.revokeNamed', { name: k.name })}
                        onClick={() => setRevoking(k)}
                      >
                        {t('keys.revoke')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <ConfirmDialog
        isOpen={revoking !== null}
        title={t('keys.revokeTitle', { name: revoking?.name ?? '' })}
        confirmLabel={t('keys.revoke')}
        danger
        busy={revoke.isPending}
        onCancel={() => setRevoking(null)}
        onConfirm={() => revoking && revoke.mutate(revoking.id, { onSettled: () => setRevoking(null) })}
      >
        <p>{t('keys.revokeBody')}</p>
      </ConfirmDialog>
    </section>
  );
}

function CreateKey({ tenantId, account, full }: { tenantId: string; account: ServiceAccount; full: boolean }) {
  const { t } = useTranslation('serviceAccounts');
  const create = useCreateServiceKey(tenantId, account.id);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(account.permissions.filter((p) => p.endsWith('.read')));
  const [servers, setServers] = useState('');
  const [ips, setIps] = useState('');
  const [expires, setExpires] = useState('');
  const [shown, setShown] = useState<{ name: string; key: string } | null>(null);
  const errors = fieldErrors(create.error, t);
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
          title={t('keys.created', { name: shown.name })}
          secret={shown.key}
          testId="new-service-key"
          once={t('keys.once')}
          copyLabel={t('keys.copy')}
          doneLabel={t('keys.hide')}
          onDone={() => setShown(null)}
        />
      )}
      {full && <Notice tone="info">{t('keys.full', { max: MAX_ACTIVE_KEYS })}</Notice>}
      <details>
        <summary>{t('keys.createTitle')}</summary>
        <form onSubmit={submit} noValidate aria-label={t('keys.createTitle')}>
          <TextField label={t('keys.name')} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
          <h4>{t('keys.scopesLabel')}</h4>
          <PermissionPicker catalogue={account.permissions} selected={scopes} onChange={setScopes} error={errors.scopes} />
          <TextField label={t('keys.servers')} hint={t('keys.serversHint')} value={servers} onChange={(e) => setServers(e.target.value)} error={errors.server_ids} />
          <TextField label={t('keys.ips')} hint={t('keys.ipsHint')} value={ips} onChange={(e) => setIps(e.target.value)} error={errors.allowed_ips} />
          <TextField
            label={t('keys.expiresLabel')}
            type="datetime-local"
            hint={t('keys.expiresHint')}
            value={expires}
            onChange={(e) => setExpires(e.target.value)}
            error={errors.expires_at}
          />
          {create.isError && Object.keys(errors).length === 0 && <ErrorAlert error={create.error} />}
          <button type="submit" className="button" disabled={create.isPending || full || !name.trim() || scopes.length === 0}>
            {t('keys.submit')}
          </button>
        </form>
      </details>
    </>
  );
}
