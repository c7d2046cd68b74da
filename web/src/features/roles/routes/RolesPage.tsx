import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { ErrorAlert, Loading } from '@/components/States';
import { ApiError, fieldErrors } from '@/lib/errors';
import { denied, useCan } from '../api/can';
import { catalogueOf, useDeleteRole, useRoles, useSaveRole, type Role } from '../api/roles';
import { PermissionPicker } from '@/components/PermissionPicker';

/** Built-in roles (read-only) and custom roles with the permission catalogue as checkboxes. */
export function RolesPage() {
  const { tenantId = '' } = useParams();
  const { t } = useTranslation('roles');
  const roles = useRoles(tenantId);
  const remove = useDeleteRole(tenantId);
  const manage = !denied(useCan(tenantId), 'roles.manage');
  const [editing, setEditing] = useState<Role | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);

  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <p>
        <Link to={`/t/${tenantId}/members`}>{t('membersLink')}</Link>
      </p>
      {roles.isPending ? (
        <Loading label={t('loading')} />
      ) : roles.isError ? (
        <ErrorAlert error={roles.error} onRetry={() => void roles.refetch()} />
      ) : (
        <>
          {remove.isError && <ErrorAlert error={remove.error} />}
          <table>
            <thead>
              <tr>
                <th scope="col">{t('columns.name')}</th>
                <th scope="col">{t('columns.permissions')}</th>
                <th scope="col">{t('columns.members')}</th>
                <th scope="col">{t('columns.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {roles.data.items.map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    {r.builtin ? t(`builtin.${r.id}`, { defaultValue: r.name }) : r.name}
                    {r.builtin && (
                      <>
                        {' '}
                        <span className="badge">{t('builtinBadge')}</span>
                      </>
                    )}
                    {(r.builtin || r.description) && (
                      <div className="muted">{r.builtin ? t(`builtinDescription.${r.id}`, { defaultValue: r.description ?? '' }) : r.description}</div>
                    )}
                  </th>
                  <td>
                    <details>
                      <summary>{t('permissionCount', { count: r.permissions.length })}</summary>
                      <ul>
                        {r.permissions.map((p) => (
                          <li key={p}>{t(`permissions:perm.${p}`, { defaultValue: p })}</li>
                        ))}
                      </ul>
                    </details>
                  </td>
                  <td>{r.builtin ? '–' : (r.members ?? 0)}</td>
                  <td>
                    {!r.builtin && (
                      <div className="button-row">
                        <button type="button" className="button" data-variant="secondary" aria-label={t('editNamed', { name: r.name })} disabled={!manage} onClick={() => setEditing(r)}>
                          {t('edit')}
                        </button>
                        <button type="button" className="button" data-variant="danger" aria-label={t('deleteNamed', { name: r.name })} disabled={!manage} onClick={() => setDeleting(r)}>
                          {t('delete')}
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {editing === null ? (
            <>
              <button type="button" className="button" disabled={!manage} onClick={() => setEditing('new')}>
                {t('create')}
              </button>
              {!manage && <p className="hint">{t('permissions:denied', { permission: 'roles.manage' })}</p>}
            </>
          ) : (
            <RoleForm
              key={editing === 'new' ? 'new' : editing.id}
              tenantId={tenantId}
              role={editing === 'new' ? null : editing}
              catalogue={catalogueOf(roles.data.items)}
              onDone={() => setEditing(null)}
            />
          )}
        </>
      )}
      <ConfirmDialog
        isOpen={deleting !== null}
        title={t('deleteTitle', { name: deleting?.name ?? '' })}
        confirmLabel={t('delete')}
        danger
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate(deleting.id, { onSettled: () => setDeleting(null) })}
      >
        <p>{t('deleteBody')}</p>
      </ConfirmDialog>
    </>
  );
}

function RoleForm({ tenantId, role, catalogue, onDone }: { tenantId: string; role: Role | null; catalogue: string[]; onDone: () => void }) {
  const { t } = useTranslation('roles');
  const save = useSaveRole(tenantId);
  const [name, setName] = useState(role?.name ?? '');
  const [description, setDescription] = useState(role?.description ?? '');
  const [permissions, setPermissions] = useState<string[]>(role?.permissions ?? []);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const errors = fieldErrors(save.error, t);
  // A permission the API refused (details.invalid / details.missing) is named next to the checkboxes.
  const refused =
    save.error instanceof ApiError
      ? ((save.error.details.invalid ?? save.error.details.missing) as string[] | undefined)
      : undefined;
  const permissionError = errors.permissions ?? (refused?.length ? t('refused', { list: refused.join(', ') }) : undefined);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ roleId: role?.id, name: name.trim(), description: description.trim(), permissions }, { onSuccess: onDone });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="role-form-heading" noValidate>
      <h2 id="role-form-heading" tabIndex={-1} ref={heading}>
        {role ? t('editTitle', { name: role.name }) : t('createTitle')}
      </h2>
      <TextField label={t('form.name')} required maxLength={50} value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
      <TextField label={t('form.description')} maxLength={200} value={description} onChange={(e) => setDescription(e.target.value)} error={errors.description} />
      <h3>{t('form.permissions')}</h3>
      <PermissionPicker catalogue={catalogue} selected={permissions} onChange={setPermissions} error={permissionError} />
      {save.isError && Object.keys(errors).length === 0 && !permissionError && <ErrorAlert error={save.error} />}
      <div className="button-row">
        <button type="submit" className="button" disabled={save.isPending || !name.trim()}>
          {t('form.save')}
        </button>
        <button type="button" className="button" data-variant="secondary" onClick={onDone}>
          {t('common:actions.cancel')}
        </button>
      </div>
    </form>
  );
}
