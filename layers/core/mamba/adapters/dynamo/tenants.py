"""Tenants, their memberships, invitations and custom roles (the tenant's partition).

A tenant is created with its owner's membership in one transaction, conditional on the
owner existing, so there is never a tenant without an owner nor an owner who is not a user.
A membership lives under the tenant (``TENANT#<tid>/MEMBER#<uid>``, the guard's read) and
is indexed under the user on gsi1 (``USER#<uid>`` / ``TENANT#<tid>``) to list a user's tenants.

Two counters make the invariants conditional writes instead of read-then-write races:

* ``TenantItem.owner_count``: a change that takes an owner away decrements it on the
  condition ``owner_count > 1``, in the same transaction as the membership change, so the
  last owner can never be demoted or removed, however many requests race.
* ``RoleItem.members`` (custom roles): every binding to the role increments it, every
  unbinding decrements it, and a delete requires it to be 0. A binding also requires the
  role's ``version`` it copied the permissions from, so a binding can never be written from
  a role's old permissions after the role changed (the role's update bumps the version
  first, then sweeps the bound memberships).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, Answer, Cancellation, get_or_none, translate
from mamba.adapters.dynamo.items import (
    EmailClaimItem,
    InvitationItem,
    MembershipItem,
    RoleItem,
    RoleNameItem,
    TenantItem,
    TenantStatsItem,
    UserItem,
)
from mamba.adapters.dynamo.pagination import CursorCodec, query_page
from mamba.adapters.dynamo.users import connection
from mamba.domain.errors import ConflictError, DomainError, NotFoundError, TenantLimitError
from mamba.domain.pages import Page, PageRequest
from mamba.domain.tenancy import CUSTOM_ROLE_PREFIX, OWNER, Contact, Invitation, Membership, Role, Tenant, UserTenant


def tenant_record(item: TenantItem) -> Tenant:
    """The tenant item as the domain's one tenant record (what the guard and the API read)."""
    return Tenant(
        id=item.tenant_id,
        name=item.name,
        created_at=item.created_at,
        status=item.status,
        require_2fa=bool(item.require_2fa),
        owner_count=int(item.owner_count) if item.owner_count is not None else None,
        updated_at=item.updated_at,
        billing_state=item.billing_state,
    )


def membership_record(item: MembershipItem) -> Membership:
    """The membership item as the domain's one role-binding record."""
    return Membership(
        tenant_id=item.tenant_id,
        user_id=item.user_id,
        role=item.role,
        created_at=item.created_at,
        permissions=frozenset(str(p) for p in item.permissions) if item.permissions is not None else None,
        server_id=item.server_id,
        expires_at=int(item.expires_at) if item.expires_at is not None else None,
    )


def _role(item: RoleItem) -> Role:
    return Role(
        id=item.sk.removeprefix(keys.ROLE_PREFIX),
        name=item.name,
        permissions=frozenset(str(p) for p in item.permissions or []),
        builtin=bool(item.builtin),
        description=item.description,
        tenant_id=item.tenant_id,
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 0),
        members=int(item.members or 0),
    )


def _invitation(item: InvitationItem) -> Invitation:
    return Invitation(
        id=item.invitation_id,
        tenant_id=item.tenant_id,
        email=item.email,
        role=item.role,
        token_hash=item.token_hash,
        invited_by=item.invited_by,
        created_at=item.created_at,
        lapses_at=int(item.ttl or 0),
        server_id=item.server_id,
        expires_at=int(item.expires_at) if item.expires_at is not None else None,
    )


def _is_custom(role: str) -> bool:
    return role.startswith(CUSTOM_ROLE_PREFIX)


def _sorted(permissions: frozenset[str] | None) -> Any:
    return sorted(permissions) if permissions is not None else None


class TxCancelledError(Exception):
    """A transaction was cancelled by the conditions named in ``failed`` (labels)."""

    def __init__(self, failed: set[str]) -> None:
        super().__init__(", ".join(sorted(failed)))
        self.failed = failed


@dataclass
class _Tx:
    """A TransactWrite whose cancellation reasons are read back by label. pynamodb sends the
    items grouped as condition checks, deletes, puts, updates; the labels follow that order."""

    checks: list[tuple[str, Any, tuple[str, str], Any]] = field(default_factory=list)
    deletes: list[tuple[str, Any, Any]] = field(default_factory=list)
    puts: list[tuple[str, Any, Any]] = field(default_factory=list)
    updates: list[tuple[str, Any, list[Any], Any]] = field(default_factory=list)

    def check(self, label: str, cls: Any, key: tuple[str, str], condition: Any) -> None:
        self.checks.append((label, cls, key, condition))

    def delete(self, label: str, item: Any, condition: Any) -> None:
        self.deletes.append((label, item, condition))

    def put(self, label: str, item: Any, condition: Any) -> None:
        self.puts.append((label, item, condition))

    def update(self, label: str, item: Any, actions: list[Any], condition: Any) -> None:
        self.updates.append((label, item, actions, condition))

    def commit(self) -> None:
        """Raises TxCancelledError (conditions failed), ConflictError (a concurrent transaction
        on the same items) and DependencyUnavailableError."""
        labels = [c[0] for c in self.checks] + [d[0] for d in self.deletes]
        labels += [p[0] for p in self.puts] + [u[0] for u in self.updates]

        def refused(cancelled: Cancellation) -> Answer:
            if cancelled.failed():
                return SKIP  # the labels of the failed conditions are raised below
            if any(cancelled.reasons):  # TransactionConflict: another transaction touched these items
                return ConflictError("The record changed at the same time; try again.", {"reason": "concurrent"})
            return None

        with translate(on_cancel=refused, unavailable="The change could not be saved; try again.") as write:
            with TransactWrite(connection=connection()) as tx:
                for _, cls, (pk, sk), condition in self.checks:
                    tx.condition_check(cls, pk, sk, condition=condition)
                for _, item, condition in self.deletes:
                    tx.delete(item, condition=condition)
                for _, item, condition in self.puts:
                    tx.save(item, condition=condition)
                for _, item, actions, condition in self.updates:
                    tx.update(item, actions=actions, condition=condition)
        if write.cancellation is not None:
            raise TxCancelledError(
                {labels[i] for i in write.cancellation.failed_positions if i < len(labels)}
            ) from write.error


def update_or_raise(item: Any, actions: list[Any], condition: Any, missing: DomainError) -> None:
    """One conditional UpdateItem; ``missing`` is raised when the condition fails."""
    with translate(on_condition=missing, unavailable="The change could not be saved; try again."):
        item.update(actions=actions, condition=condition)


def _user_exists(user_id: str) -> bool:
    return get_or_none(UserItem, *keys.user(user_id), consistent_read=True, attributes_to_get=["pk"]) is not None


class DynamoTenantRepository:
    def __init__(self, cursors: CursorCodec | None = None) -> None:
        self._cursors = cursors

    @property
    def cursors(self) -> CursorCodec:
        if self._cursors is None:
            raise RuntimeError("this repository was built without a cursor codec (use bootstrap.tenancy_repository())")
        return self._cursors

    # --- tenants ---------------------------------------------------------------------

    def add_with_owner(self, tenant: Tenant, owner: Membership, *, max_owned: int | None = None) -> None:
        """``max_owned``: count the tenant on the owner's ``owned_tenants`` in the same
        transaction, on the condition that it stays within the cap (None: neither counted nor
        capped, for the seed and the CLI)."""
        pk, sk = keys.tenant(tenant.id)
        member_pk, member_sk = keys.membership(tenant.id, owner.user_id)
        profile = TenantItem(
            pk,
            sk,
            kind="tenant",
            gsi1pk=keys.ALL_TENANTS,
            gsi1sk=keys.created_sort(tenant.created_at, tenant.id),
            tenant_id=tenant.id,
            name=tenant.name,
            status=tenant.status,
            created_at=tenant.created_at,
            owner_count=1 if owner.role == OWNER else 0,
        )
        membership = MembershipItem(
            member_pk,
            member_sk,
            kind="membership",
            gsi1pk=keys.memberships_of_user(owner.user_id),
            gsi1sk=keys.user_membership_sort(tenant.id),
            tenant_id=tenant.id,
            user_id=owner.user_id,
            role=owner.role,
            created_at=owner.created_at,
        )

        def refused(cancelled: Cancellation) -> DomainError | None:
            # pynamodb sends condition checks, then puts, then updates: the reasons are
            # [owner, tenant, membership] without a cap and [tenant, membership, owner] with one.
            owner_at, rows = (2, (0, 1)) if max_owned is not None else (0, (1, 2))
            if cancelled.failed(*rows):
                return ConflictError("The tenant already exists.", {"tenant_id": tenant.id})
            if cancelled.failed(owner_at):
                if max_owned is not None and _user_exists(owner.user_id):
                    return TenantLimitError(f"An account can own at most {max_owned} tenants.", {"limit": max_owned})
                return NotFoundError("The owner does not exist.", {"user_id": owner.user_id})
            return None

        with translate(on_cancel=refused, unavailable="The tenant could not be saved; try again."):
            with TransactWrite(connection=connection()) as tx:
                if max_owned is None:
                    tx.condition_check(UserItem, *keys.user(owner.user_id), condition=UserItem.pk.exists())
                tx.save(profile, condition=TenantItem.pk.does_not_exist())
                tx.save(membership, condition=MembershipItem.pk.does_not_exist())
                if max_owned is not None:
                    # Counted atomically with the creation: two creates at the cap cannot both pass.
                    tx.update(
                        UserItem(*keys.user(owner.user_id)),
                        actions=[UserItem.owned_tenants.add(1)],
                        condition=UserItem.pk.exists()
                        & (UserItem.owned_tenants.does_not_exist() | (UserItem.owned_tenants < max_owned)),
                    )
                # The fleet overview's count, in the same transaction (last: no condition, so the
                # reasons above keep their places).
                tx.update(TenantStatsItem(*keys.stats("TENANTS")), actions=[tenant_stat(tenant.status).add(1)])

    def get(self, tenant_id: str) -> Tenant:
        with translate(on_missing=NotFoundError("Tenant not found.", {"tenant_id": tenant_id})):
            return tenant_record(TenantItem.get(*keys.tenant(tenant_id), consistent_read=True))

    def get_tenant(self, tenant_id: str) -> Tenant:
        with translate(on_missing=NotFoundError("Tenant not found.", {"tenant_id": tenant_id})):
            return tenant_record(TenantItem.get(*keys.tenant(tenant_id), consistent_read=True))

    def update_tenant(
        self, tenant_id: str, *, name: str | None, require_2fa: bool | None, actor_id: str, now: str
    ) -> Tenant:
        actions: list[Any] = [TenantItem.updated_at.set(now)]
        if name is not None:
            actions.append(TenantItem.name.set(name))
        if require_2fa is not None:
            actions.append(TenantItem.require_2fa.set(require_2fa))
        item = TenantItem(*keys.tenant(tenant_id))
        not_found = NotFoundError("Tenant not found.", {"tenant_id": tenant_id})
        if require_2fa:
            # Requiring 2FA is refused unless the actor has it: otherwise the very next request
            # of the actor would be refused by the guard. Checked in the write's transaction.
            tx = _Tx()
            # A passkey is a second factor too (docs/passkeys.md).
            has_2fa = (UserItem.totp_enabled == True) | (UserItem.passkey_count > 0)  # noqa: E712
            tx.check("actor", UserItem, keys.user(actor_id), has_2fa)
            tx.update("tenant", item, actions, TenantItem.pk.exists())
            try:
                tx.commit()
            except TxCancelledError as exc:
                if "tenant" in exc.failed:
                    raise not_found from exc
                raise ConflictError(
                    "Turn on two-factor authentication for your own account before requiring it of members.",
                    {"field": "require_2fa", "reason": "actor_without_2fa"},
                ) from exc
        else:
            update_or_raise(item, actions, TenantItem.pk.exists(), not_found)
        return self.get_tenant(tenant_id)

    def tenants_of_user(self, user_id: str, page: PageRequest) -> Page[UserTenant]:
        """One Query on gsi1 for the page of memberships, one BatchGetItem for their tenants."""
        found, cursor = query_page(
            self.cursors,
            MembershipItem.gsi1.query,
            keys.memberships_of_user(user_id),
            MembershipItem.gsi1sk.startswith(keys.USER_MEMBERSHIP_PREFIX),
            scope=f"tenants-of:{user_id}",
            page=page,
        )
        bindings: list[MembershipItem] = found
        profiles = {
            item.tenant_id: tenant_record(item)
            for item in TenantItem.batch_get([keys.tenant(b.tenant_id) for b in bindings])
        }
        items = [
            UserTenant(
                tenant=profiles[b.tenant_id],
                role=b.role,
                server_id=b.server_id,
                expires_at=int(b.expires_at) if b.expires_at is not None else None,
            )
            for b in bindings
            if b.tenant_id in profiles
        ]
        return Page(items=items, next_cursor=cursor)

    def membership(self, tenant_id: str, user_id: str) -> Membership | None:
        item = get_or_none(MembershipItem, *keys.membership(tenant_id, user_id), consistent_read=True)
        return membership_record(item) if item is not None else None

    def memberships_of_user(self, user_id: str) -> list[Membership]:
        """Every tenant the user belongs to: one Query on gsi1 per page (eventually consistent)."""
        found = MembershipItem.gsi1.query(
            keys.memberships_of_user(user_id),
            MembershipItem.gsi1sk.startswith(keys.USER_MEMBERSHIP_PREFIX),
        )
        return [membership_record(item) for item in found]  # type: ignore[arg-type]

    def builtin_roles(self) -> dict[str, frozenset[str]]:
        """The built-in role catalogue as migration 0001 wrote it: name → permissions."""
        found = RoleItem.query(keys.BUILTIN_ROLES, RoleItem.sk.startswith(keys.ROLE_PREFIX))
        return {item.name: frozenset(str(p) for p in item.permissions or []) for item in found}

    # --- members ---------------------------------------------------------------------

    def get_member(self, tenant_id: str, user_id: str) -> Membership:
        with translate(on_missing=NotFoundError("Member not found.", {"user_id": user_id})):
            return membership_record(MembershipItem.get(*keys.membership(tenant_id, user_id), consistent_read=True))

    def list_members(self, tenant_id: str, page: PageRequest) -> Page[Membership]:
        found, cursor = query_page(
            self.cursors,
            MembershipItem.query,
            keys.tenant_partition(tenant_id),
            MembershipItem.sk.startswith(keys.MEMBER_PREFIX),
            scope=f"members:{tenant_id}",
            page=page,
            consistent_read=True,
        )
        return Page(items=[membership_record(item) for item in found], next_cursor=cursor)

    def contacts(self, user_ids: list[str]) -> dict[str, Contact]:
        wanted = [keys.user(user_id) for user_id in dict.fromkeys(user_ids)]
        found: dict[str, Contact] = {}
        # A member page is at most 100 (pages.MAX_LIMIT), so this is one BatchGetItem;
        # pynamodb retries unprocessed keys itself. Only the contact fields are read.
        for start in range(0, len(wanted), 100):
            for item in UserItem.batch_get(wanted[start : start + 100], attributes_to_get=["user_id", "email", "name"]):
                found[item.user_id] = Contact(email=item.email, name=item.name)
        return found

    def is_member_email(self, tenant_id: str, email: str) -> bool:
        claim = get_or_none(EmailClaimItem, *keys.email_claim(email), consistent_read=True)
        if claim is None:
            return False
        return get_or_none(MembershipItem, *keys.membership(tenant_id, claim.user_id), consistent_read=True) is not None

    def _count_changes(self, tx: _Tx, tenant_id: str, old_role: str | None, new_role: str | None) -> None:
        """The counter updates of a binding moving from ``old_role`` to ``new_role`` (None: no binding)."""
        if old_role == new_role:
            return
        if old_role is not None and _is_custom(old_role):
            tx.update(
                "old_role",
                RoleItem(*keys.custom_role(tenant_id, old_role)),
                [RoleItem.members.add(-1)],
                RoleItem.pk.exists(),
            )
        if old_role == OWNER:
            # The last-owner rule: the decrement happens only while another owner remains.
            tx.update(
                "owners",
                TenantItem(*keys.tenant(tenant_id)),
                [TenantItem.owner_count.add(-1)],
                TenantItem.owner_count > 1,
            )
        if new_role == OWNER:
            tx.update(
                "owners", TenantItem(*keys.tenant(tenant_id)), [TenantItem.owner_count.add(1)], TenantItem.pk.exists()
            )

    @staticmethod
    def _bind_role(tx: _Tx, tenant_id: str, old_role: str | None, new_role: str, version: int | None) -> None:
        """A binding to a custom role is written only from the role's current version."""
        if not _is_custom(new_role):
            return
        key = keys.custom_role(tenant_id, new_role)
        if old_role == new_role:
            tx.check("new_role", RoleItem, key, RoleItem.version == (version or 0))
        else:
            tx.update("new_role", RoleItem(*key), [RoleItem.members.add(1)], RoleItem.version == (version or 0))

    def change_binding(self, current: Membership, updated: Membership, role_version: int | None) -> None:
        pk, sk = keys.membership(current.tenant_id, current.user_id)
        actions: list[Any] = [MembershipItem.role.set(updated.role)]
        optional: list[tuple[Any, Any]] = [
            (MembershipItem.permissions, _sorted(updated.permissions)),
            (MembershipItem.server_id, updated.server_id),
            (MembershipItem.expires_at, updated.expires_at),
        ]
        for attr, value in optional:
            actions.append(attr.set(value) if value is not None else attr.remove())
        tx = _Tx()
        # role == current.role: the binding is still the one the rules were checked against.
        tx.update("member", MembershipItem(pk, sk), actions, MembershipItem.role == current.role)
        self._count_changes(tx, current.tenant_id, current.role, updated.role)
        self._bind_role(tx, current.tenant_id, current.role, updated.role, role_version)
        try:
            tx.commit()
        except TxCancelledError as exc:
            raise self._binding_error(exc, current.user_id) from exc

    def remove_member(self, current: Membership) -> None:
        pk, sk = keys.membership(current.tenant_id, current.user_id)
        tx = _Tx()
        tx.delete("member", MembershipItem(pk, sk), MembershipItem.role == current.role)
        self._count_changes(tx, current.tenant_id, current.role, None)
        try:
            tx.commit()
        except TxCancelledError as exc:
            raise self._binding_error(exc, current.user_id) from exc

    @staticmethod
    def _binding_error(exc: TxCancelledError, user_id: str) -> Exception:
        if "owners" in exc.failed:
            return ConflictError("A tenant must keep at least one owner.", {"reason": "last_owner"})
        if "new_role" in exc.failed:
            return ConflictError("The role changed or was deleted meanwhile; try again.", {"reason": "role_changed"})
        return ConflictError("The member changed meanwhile; try again.", {"user_id": user_id, "reason": "concurrent"})

    # --- invitations -----------------------------------------------------------------

    def put_invitation(self, invitation: Invitation) -> None:
        pk, sk = keys.invitation(invitation.tenant_id, invitation.id)
        item = InvitationItem(
            pk,
            sk,
            kind="invitation",
            ttl=invitation.lapses_at,
            invitation_id=invitation.id,
            tenant_id=invitation.tenant_id,
            email=invitation.email,
            role=invitation.role,
            token_hash=invitation.token_hash,
            invited_by=invitation.invited_by,
            server_id=invitation.server_id,
            expires_at=invitation.expires_at,
            created_at=invitation.created_at,
        )
        with translate(unavailable="The invitation could not be saved; try again."):
            item.save()  # an invitation to the same address replaces the pending one (and its token)

    def get_invitation(self, tenant_id: str, invitation_id: str) -> Invitation:
        with translate(on_missing=NotFoundError("Invitation not found.", {"invitation_id": invitation_id})):
            return _invitation(InvitationItem.get(*keys.invitation(tenant_id, invitation_id), consistent_read=True))

    def list_invitations(self, tenant_id: str, page: PageRequest) -> Page[Invitation]:
        found, cursor = query_page(
            self.cursors,
            InvitationItem.query,
            keys.tenant_partition(tenant_id),
            InvitationItem.sk.startswith(keys.INVITATION_PREFIX),
            scope=f"invitations:{tenant_id}",
            page=page,
            consistent_read=True,
        )
        return Page(items=[_invitation(item) for item in found], next_cursor=cursor)

    def delete_invitation(self, tenant_id: str, invitation_id: str) -> None:
        with translate(
            on_condition=NotFoundError("Invitation not found.", {"invitation_id": invitation_id}),
            unavailable="The invitation could not be deleted; try again.",
        ):
            InvitationItem(*keys.invitation(tenant_id, invitation_id)).delete(condition=InvitationItem.pk.exists())

    def accept_invitation(self, invitation: Invitation, member: Membership, role_version: int | None) -> None:
        pk, sk = keys.membership(member.tenant_id, member.user_id)
        binding = MembershipItem(
            pk,
            sk,
            kind="membership",
            gsi1pk=keys.memberships_of_user(member.user_id),
            gsi1sk=keys.user_membership_sort(member.tenant_id),
            tenant_id=member.tenant_id,
            user_id=member.user_id,
            role=member.role,
            created_at=member.created_at,
            permissions=_sorted(member.permissions),
            server_id=member.server_id,
            expires_at=member.expires_at,
        )
        tx = _Tx()
        # token_hash: the invitation is consumed exactly once, and not after it was replaced.
        tx.delete(
            "invitation",
            InvitationItem(*keys.invitation(invitation.tenant_id, invitation.id)),
            InvitationItem.token_hash == invitation.token_hash,
        )
        tx.put("member", binding, MembershipItem.pk.does_not_exist())
        self._count_changes(tx, member.tenant_id, None, member.role)
        self._bind_role(tx, member.tenant_id, None, member.role, role_version)
        try:
            tx.commit()
        except TxCancelledError as exc:
            if "invitation" in exc.failed:
                raise NotFoundError("The invitation does not exist or has expired.", {"field": "token"}) from exc
            if "member" in exc.failed:
                raise ConflictError("You are already a member of this tenant.", {"reason": "already_member"}) from exc
            raise ConflictError(
                "The role changed or was deleted meanwhile; try again.", {"reason": "role_changed"}
            ) from exc

    # --- custom roles ----------------------------------------------------------------

    def get_role(self, tenant_id: str, role_id: str) -> Role:
        with translate(on_missing=NotFoundError("Role not found.", {"role_id": role_id})):
            return _role(RoleItem.get(*keys.custom_role(tenant_id, role_id), consistent_read=True))

    def list_roles(self, tenant_id: str, page: PageRequest) -> Page[Role]:
        found, cursor = query_page(
            self.cursors,
            RoleItem.query,
            keys.tenant_partition(tenant_id),
            RoleItem.sk.startswith(keys.ROLE_PREFIX),
            scope=f"roles:{tenant_id}",
            page=page,
            consistent_read=True,
        )
        return Page(items=[_role(item) for item in found], next_cursor=cursor)

    @staticmethod
    def _name_claim(role: Role) -> RoleNameItem:
        assert role.tenant_id is not None
        pk, sk = keys.role_name_claim(role.tenant_id, role.name)
        return RoleNameItem(pk, sk, kind="role_name", tenant_id=role.tenant_id, role_id=role.id, name=role.name)

    def add_role(self, role: Role) -> None:
        assert role.tenant_id is not None
        pk, sk = keys.custom_role(role.tenant_id, role.id)
        item = RoleItem(
            pk,
            sk,
            kind="role",
            name=role.name,
            description=role.description,
            permissions=sorted(role.permissions),
            builtin=False,
            tenant_id=role.tenant_id,
            created_at=role.created_at,
            updated_at=role.updated_at,
            version=role.version,
            members=0,
        )
        tx = _Tx()
        tx.put("role", item, RoleItem.pk.does_not_exist())
        tx.put("name", self._name_claim(role), RoleNameItem.pk.does_not_exist())
        try:
            tx.commit()
        except TxCancelledError as exc:
            if "name" in exc.failed:
                raise ConflictError("A role with this name exists.", {"field": "name"}) from exc
            raise ConflictError("The role already exists.", {"role_id": role.id}) from exc

    def update_role(self, current: Role, updated: Role) -> None:
        assert current.tenant_id is not None
        actions: list[Any] = [
            RoleItem.name.set(updated.name),
            RoleItem.permissions.set(_sorted(updated.permissions)),
            RoleItem.updated_at.set(updated.updated_at or ""),
            RoleItem.version.set(updated.version),
            (
                RoleItem.description.set(updated.description)
                if updated.description is not None
                else RoleItem.description.remove()
            ),
        ]
        tx = _Tx()
        tx.update(
            "role",
            RoleItem(*keys.custom_role(current.tenant_id, current.id)),
            actions,
            RoleItem.version == current.version,
        )
        if updated.name.lower() != current.name.lower():
            tx.delete("old_name", self._name_claim(current), RoleNameItem.role_id == current.id)
            tx.put("name", self._name_claim(updated), RoleNameItem.pk.does_not_exist())
        try:
            tx.commit()
        except TxCancelledError as exc:
            if "name" in exc.failed:
                raise ConflictError("A role with this name exists.", {"field": "name"}) from exc
            raise ConflictError("The role changed meanwhile; try again.", {"role_id": current.id}) from exc

    def sync_role_bindings(self, role: Role) -> int:
        """Query the tenant's memberships bound to ``role`` and copy its permissions into each.

        Each update is conditional on the membership still being bound to this role (one
        that moved to another role meanwhile is not ours to touch). Re-running is harmless.
        """
        assert role.tenant_id is not None
        bound = MembershipItem.query(
            keys.tenant_partition(role.tenant_id),
            MembershipItem.sk.startswith(keys.MEMBER_PREFIX),
            filter_condition=MembershipItem.role == role.id,
            consistent_read=True,
        )
        permissions: Any = sorted(role.permissions)
        changed = 0
        for item in bound:
            # A failed condition: the membership moved to another role meanwhile (not ours to touch).
            with translate(
                on_condition=SKIP, unavailable="The role's members could not all be updated; retry."
            ) as update:
                item.update(
                    actions=[MembershipItem.permissions.set(permissions)], condition=MembershipItem.role == role.id
                )
            changed += 0 if update.condition_failed else 1
        from mamba.adapters.dynamo.service_accounts import sync_service_accounts

        return changed + sync_service_accounts(role.tenant_id, role.id, permissions)

    def delete_role(self, role: Role) -> None:
        assert role.tenant_id is not None
        tx = _Tx()
        # members == 0: no binding can appear between this check and the delete (a binding
        # increments the counter in its own transaction, which would fail this condition).
        tx.delete("role", RoleItem(*keys.custom_role(role.tenant_id, role.id)), RoleItem.members == 0)
        tx.delete("name", self._name_claim(role), RoleNameItem.role_id == role.id)
        try:
            tx.commit()
        except TxCancelledError as exc:
            if "role" in exc.failed:
                raise ConflictError(
                    "The role is still bound to members; change their role first.", {"role_id": role.id}
                ) from exc
            raise ConflictError("The role changed meanwhile; try again.", {"role_id": role.id}) from exc


def tenant_stat(status: str) -> Any:
    """The ``STATS/TENANTS`` attribute that counts ``status`` (active unless suspended)."""
    return TenantStatsItem.c_suspended if status == "suspended" else TenantStatsItem.c_active
