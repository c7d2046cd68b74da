import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { TextField } from '@/components/Field';
import { PageTitle } from '@/components/PageTitle';
import { Empty, ErrorAlert, Loading, Notice } from '@/components/States';
import { useMe } from '@/features/auth/api/session';
import { fieldErrors } from '@/lib/errors';
import { formatDate } from '@/lib/format';
import { denied, useCan } from '@/features/roles/api/can';
import {
  isoToLocal,
  localToIso,
  useChangeMember,
  useInvitations,
  useInvite,
  useMembers,
  useRemoveMember,
  useRevokeInvitation,
  useServerChoices,
  type Member,
} from '../api/members';
import { GrantCells } from '../components/GrantCells';
import { GrantFields, type GrantDraft } from '../components/GrantFields';
import { ServiceAccountsSection } from '@/features/service-accounts/components/ServiceAccountsSection';

/** Members and access: invite, change role/scope/expiry, remove; pending invitations. */
export function MembersPage() {
  const { tenantId = '' } = useParams();
  const { t } = useTranslation('members');
  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <p>
        <Link to={`/t/${tenantId}/roles`}>{t('rolesLink')}</Link> · <Link to={`/t/${tenantId}/audit`}>{t('auditLink')}</Link>
      </p>
      <InviteForm tenantId={tenantId} />
      <Invitations tenantId={tenantId} />
      <MembersList tenantId={tenantId} />
      <ServiceAccountsSection tenantId={tenantId} />
    </>
  );
}

const emptyGrant: GrantDraft = { role: 'viewer', serverId: '', expires: '' };

function InviteForm({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('members');
  const invite = useInvite(tenantId);
  const [email, setEmail] = useState('');
  const [grant, setGrant] = useState<GrantDraft>(emptyGrant);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const errors = fieldErrors(invite.error, t);
  const can = useCan(tenantId);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSentTo(null);
    invite.mutate(
      { email: email.trim(), role: grant.role, server_id: grant.serverId || null, expires_at: localToIso(grant.expires) },
      {
        onSuccess: (inv) => {
          setSentTo(inv.email);
          setEmail('');
          setGrant(emptyGrant);
        },
      },
    );
  };

  return (
    <section className="card" aria-labelledby="invite-heading">
      <h2 id="invite-heading">{t('invite.title')}</h2>
      <form onSubmit={submit} noValidate>
        <TextField
          label={t('invite.email')}
          type="email"
          autoComplete="off"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errors.email}
        />
        <GrantFields tenantId={tenantId} value={grant} onChange={setGrant} errors={errors} />
        {invite.isError && Object.keys(errors).length === 0 && <ErrorAlert error={invite.error} />}
        {sentTo && <Notice tone="success">{t('invite.sent', { email: sentTo })}</Notice>}
        <button type="submit" className="button" disabled={invite.isPending || !email.trim() || denied(can, 'members.manage')}>
          {invite.isPending ? t('invite.sending') : t('invite.submit')}
        </button>
        {denied(can, 'members.manage') && <p className="hint">{t('permissions:denied', { permission: 'members.manage' })}</p>}
      </form>
    </section>
  );
}

function Invitations({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('members');
  const list = useInvitations(tenantId);
  const revoke = useRevokeInvitation(tenantId);
  const servers = useServerChoices(tenantId);
  const can = useCan(tenantId);
  const serverName = (id: string | null | undefined) => servers.data?.find((s) => s.id === id)?.name ?? id;
  return (
    <section aria-labelledby="invitations-heading">
      <h2 id="invitations-heading">{t('invitations.title')}</h2>
      {list.isPending ? (
        <Loading label={t('invitations.loading')} />
      ) : list.isError ? (
        <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <Empty>{t('invitations.empty')}</Empty>
      ) : (
        <>
          {revoke.isError && <ErrorAlert error={revoke.error} />}
          <table>
            <thead>
              <tr>
                <th scope="col">{t('invitations.email')}</th>
                <th scope="col">{t('grant.role')}</th>
                <th scope="col">{t('grant.scope')}</th>
                <th scope="col">{t('invitations.lapses')}</th>
                <th scope="col">{t('columns.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((inv) => (
                <tr key={inv.id}>
                  <th scope="row">{inv.email}</th>
                  <td>{t(`roles:builtin.${inv.role}`, { defaultValue: inv.role })}</td>
                  <td>{inv.server_id ? serverName(inv.server_id) : t('grant.wholeTenant')}</td>
                  <td>{inv.invitation_expires_at ? formatDate(inv.invitation_expires_at) : '–'}</td>
                  <td>
                    <button
                      type="button"
                      className="button"
                      data-variant="secondary"
                      disabled={revoke.isPending || denied(can, 'members.manage')}
                      aria-label={t('invitations.revokeNamed', { email: inv.email })}
                      onClick={() => revoke.mutate(inv.id)}
                    >
                      {t('invitations.revoke')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function MembersList({ tenantId }: { tenantId: string }) {
  const { t } = useTranslation('members');
  const list = useMembers(tenantId);
  const me = useMe();
  const servers = useServerChoices(tenantId);
  const remove = useRemoveMember(tenantId);
  const can = useCan(tenantId);
  const manage = !denied(can, 'members.manage');
  const [editing, setEditing] = useState<Member | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  const serverName = (id: string | null | undefined) => servers.data?.find((s) => s.id === id)?.name ?? id;
  // The API names each member by their account's email (and name); the id is the last resort.
  const who = (m: Member) => {
    const label = m.email ?? m.user_id;
    return m.user_id === me.data?.id ? t('members.you', { id: label }) : label;
  };

  return (
    <section aria-labelledby="members-heading">
      <h2 id="members-heading">{t('members.title')}</h2>
      {list.isPending ? (
        <Loading label={t('members.loading')} />
      ) : list.isError ? (
        <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <Empty>{t('members.empty')}</Empty>
      ) : (
        <>
          {remove.isError && <ErrorAlert error={remove.error} />}
          <table>
            <thead>
              <tr>
                <th scope="col">{t('members.user')}</th>
                <th scope="col">{t('grant.role')}</th>
                <th scope="col">{t('grant.scope')}</th>
                <th scope="col">{t('grant.expires')}</th>
                <th scope="col">{t('columns.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((m) => (
                <tr key={m.user_id}>
                  <th scope="row">
                    {m.name ? (
                      <>
                        {m.name}
                        <br />
                        <span className="muted">{who(m)}</span>
                      </>
                    ) : (
                      who(m)
                    )}
                  </th>
                  <GrantCells
                    grant={m}
                    serverName={serverName}
                    wholeTenant={t('grant.wholeTenant')}
                    never={t('grant.never')}
                    expired={t('members.expired')}
                  />
                  <td>
                    <div className="button-row">
                      <button
                        type="button"
                        className="button"
                        data-variant="secondary"
                        aria-label={t('members.changeNamed', { user: who(m) })}
                        disabled={!manage}
                        onClick={() => setEditing(m)}
                      >
                        {t('members.change')}
                      </button>
                      <button
                        type="button"
                        className="button"
                        data-variant="danger"
                        aria-label={t('members.removeNamed', { user: who(m) })}
                        disabled={!manage}
                        onClick={() => setRemoving(m)}
                      >
                        {t('members.remove')}
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {editing && <EditMember key={editing.user_id} tenantId={tenantId} member={editing} label={who(editing)} onDone={() => setEditing(null)} />}
      <ConfirmDialog
        isOpen={removing !== null}
        title={t('members.removeTitle', { user: removing ? who(removing) : '' })}
        confirmLabel={t('members.remove')}
        danger
        busy={remove.isPending}
        onCancel={() => setRemoving(null)}
        onConfirm={() => removing && remove.mutate(removing.user_id, { onSettled: () => setRemoving(null) })}
      >
        <p>{t('members.removeBody')}</p>
      </ConfirmDialog>
    </section>
  );
}

function EditMember({ tenantId, member, label, onDone }: { tenantId: string; member: Member; label: string; onDone: () => void }) {
  const { t } = useTranslation('members');
  const change = useChangeMember(tenantId);
  const [grant, setGrant] = useState<GrantDraft>({
    role: member.role,
    serverId: member.server_id ?? '',
    expires: isoToLocal(member.expires_at),
  });
  const errors = fieldErrors(change.error, t);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    change.mutate(
      { userId: member.user_id, role: grant.role, server_id: grant.serverId || null, expires_at: localToIso(grant.expires) },
      { onSuccess: onDone },
    );
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="edit-member-heading" noValidate>
      <h3 id="edit-member-heading" tabIndex={-1} ref={heading}>
        {t('members.changeTitle', { user: label })}
      </h3>
      <GrantFields tenantId={tenantId} value={grant} onChange={setGrant} errors={errors} />
      {change.isError && Object.keys(errors).length === 0 && <ErrorAlert error={change.error} />}
      <div className="button-row">
        <button type="submit" className="button" disabled={change.isPending}>
          {t('members.save')}
        </button>
        <button type="button" className="button" data-variant="secondary" onClick={onDone}>
          {t('common:actions.cancel')}
        </button>
      </div>
    </form>
  );
}
