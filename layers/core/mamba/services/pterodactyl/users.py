"""Application API users: a Pterodactyl user is a Mamba account (docs/pterodactyl-api.md, "Users").

Mamba accounts have an email, a display name and the admin flag; what Pterodactyl adds (a
unique ``username``, ``first_name``/``last_name``, ``language``) lives in the account's
Pterodactyl record (``PteroRecords`` kind ``user``), the username also claimed under kind
``username`` so two accounts never share one. An account never touched by this API shows a
username made from its email and the names split from its display name.

Errors: NotFoundError (unknown id), ValidationError (422: a field, a taken email, username or
external id), ConflictError (deleting an admin or the last owner of a tenant with servers).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mamba.domain.account_policy import check_name, check_password_policy, normalise_email
from mamba.domain.accounts import User, UserSummary
from mamba.domain.clock import iso as clock_iso
from mamba.domain.clock import new_id, utcnow
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.pterodactyl import IdRef, iso, item
from mamba.ports import PteroIds, PteroRecords
from mamba.services import admin as admin_service
from mamba.services.accounts import PasswordHashing, UserRepository
from mamba.services.admin import AdminRepository
from mamba.services.pterodactyl.common import by_number, invalid, listing, not_found, read_all, taken

KIND = "user"
USERNAME = "username"  # the records that claim a username for one account
FILTERS = ("email", "uuid", "username", "external_id")
INCLUDES = ("servers",)
# ``include=servers``: servers are the server area's objects, so the relationship is Pterodactyl's
# null resource (what it sends for an include it does not give).
_SERVERS_NOT_INCLUDED = {"servers": {"object": "null_resource", "attributes": None}}
SORTS = ("id", "uuid")
# Pterodactyl's user uuid, derived from the Mamba id so it is stable without being stored.
_UUID_NAMESPACE = uuid.UUID("6f1c3b1e-6a35-4d2b-9a4e-0d0b3a1f9b16")


@dataclass(frozen=True)
class UserPorts:
    users: UserRepository
    admin: AdminRepository
    hasher: PasswordHashing
    ids: PteroIds
    records: PteroRecords
    # Deletes an account as DELETE /v1/me does after its checks: (user id, actor id) -> None.
    remove: Callable[[str, str], object]


def user_uuid(user_id: str) -> str:
    return str(uuid.uuid5(_UUID_NAMESPACE, user_id))


def _split(name: str | None) -> tuple[str, str]:
    first, _, last = (name or "").strip().partition(" ")
    return first, last.strip()


def _default_username(email: str) -> str:
    return email.split("@", 1)[0]


def attributes(user: User | UserSummary, ref: IdRef, record: Mapping[str, Any] | None) -> dict[str, Any]:
    """Pterodactyl's ``UserTransformer`` of a Mamba account."""
    record = record or {}
    first, last = _split(user.name)
    created = iso(user.created_at)
    return {
        "id": ref.number,
        "external_id": ref.external_id,
        "uuid": user_uuid(user.id),
        "username": record.get("username") or _default_username(user.email),
        "email": user.email,
        "first_name": record.get("first_name") or first,
        "last_name": record.get("last_name") or last,
        "language": record.get("language") or "en",
        "root_admin": bool(user.is_admin),
        "2fa": bool(user.totp_enabled or user.passkeys),
        "created_at": created,
        "updated_at": iso(record.get("updated_at")) or created,
    }


def user_object(
    ports: UserPorts, user: User | UserSummary, ref: IdRef | None = None, wanted: frozenset[str] = frozenset()
) -> dict[str, Any]:
    ref = ref or ports.ids.number(KIND, user.id)
    relationships = _SERVERS_NOT_INCLUDED if "servers" in wanted else None
    return item("user", attributes(user, ref, ports.records.get(KIND, user.id)), relationships)


def find(ports: UserPorts, number: str) -> tuple[User, IdRef]:
    """The account behind an integer id. Raises NotFoundError."""
    ref = by_number(ports.ids, KIND, number)
    try:
        return ports.users.get(ref.ref), ref
    except NotFoundError as exc:
        raise not_found(KIND, number) from exc


def find_external(ports: UserPorts, external_id: str) -> tuple[User, IdRef]:
    ref = ports.ids.by_external(KIND, external_id)
    if ref is None:
        raise not_found(KIND, external_id)
    try:
        return ports.users.get(ref.ref), ref
    except NotFoundError as exc:
        raise not_found(KIND, external_id) from exc


def list_users(
    ports: UserPorts, query: Mapping[str, str], base_url: str, wanted: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Every account, filtered, sorted and paged as Pterodactyl's ``GET /users``."""
    everyone = read_all(lambda page: ports.admin.list_users(page))
    refs = ports.ids.numbers(KIND, {u.id: None for u in everyone})
    records = ports.records.get_many(KIND, [u.id for u in everyone])
    relationships = _SERVERS_NOT_INCLUDED if "servers" in wanted else None
    rows = [item("user", attributes(u, refs[u.id], records.get(u.id)), relationships) for u in everyone]
    return listing(rows, query, filterable=FILTERS, sortable=SORTS, base_url=base_url, exact=("external_id",))


def _check_username(value: str) -> str:
    name = value.strip()
    if not 1 <= len(name) <= 191:
        raise invalid("username", "must be between 1 and 191 characters", "between")
    return name


def _gone(ports: UserPorts, user_id: str) -> bool:
    """Whether the account was deleted (through /v1 too, which leaves its Pterodactyl claims)."""
    try:
        ports.users.get(user_id)
    except NotFoundError:
        return True
    return False


def _claim_username(ports: UserPorts, username: str, user_id: str) -> None:
    key = username.lower()
    try:
        ports.records.add(USERNAME, key, {"user": user_id})
    except ConflictError as exc:
        holder = str((ports.records.get(USERNAME, key) or {}).get("user") or "")
        if not holder or not _gone(ports, holder):
            raise taken("username") from exc
        # A deleted account's claim: give it back, then claim it once more (a racing claim wins).
        ports.records.delete(USERNAME, key)
        try:
            ports.records.add(USERNAME, key, {"user": user_id})
        except ConflictError as again:
            raise taken("username") from again


def _free_external(ports: UserPorts, external_id: str | None, user_id: str | None) -> None:
    if external_id is None:
        return
    holder = ports.ids.by_external(KIND, external_id)
    if holder is not None and holder.ref != user_id:
        if not _gone(ports, holder.ref):
            raise taken("external_id")
        ports.ids.forget(holder)  # a deleted account's ids: its external id is free again


def create_user(ports: UserPorts, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /users``: an account with a verified email (the host's billing system vouches for
    it, as ``mamba create-admin`` does), a password only when one is given (otherwise the user
    sets one through "forgot password"), and its Pterodactyl record."""
    email = normalise_email(str(fields["email"]))
    username = _check_username(str(fields["username"]))
    external_id = fields.get("external_id")
    password = fields.get("password")
    if password:
        check_password_policy(password)
    name = check_name(f"{fields['first_name']} {fields['last_name']}".strip())
    _free_external(ports, external_id, None)
    user = User(
        id=new_id("usr"),
        email=email,
        created_at=clock_iso(utcnow()),
        name=name,
        password_hash=ports.hasher.hash(password) if password else None,
        is_admin=bool(fields.get("root_admin")),
        email_verified=True,
    )
    # The username first: a taken one changes nothing; a taken email gives the claim back.
    _claim_username(ports, username, user.id)
    try:
        ports.users.add(user)
    except ConflictError as exc:
        ports.records.delete(USERNAME, username.lower())
        raise taken("email") from exc
    ports.records.put(KIND, user.id, _record(fields, username, user.created_at))
    ref = ports.ids.number(KIND, user.id)
    if external_id is not None:
        try:
            ref = ports.ids.set_external(ref, external_id)
        except ConflictError as exc:  # another object took it since the check: the account stays, without it
            raise taken("external_id") from exc
    return item("user", attributes(user, ref, ports.records.get(KIND, user.id)))


def _record(fields: Mapping[str, Any], username: str, updated_at: str) -> dict[str, Any]:
    return {
        "username": username,
        "first_name": str(fields.get("first_name") or ""),
        "last_name": str(fields.get("last_name") or ""),
        "language": str(fields.get("language") or "en"),
        "updated_at": updated_at,
    }


def update_user(ports: UserPorts, actor_id: str, number: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``PATCH /users/{id}``: the given fields (email, username, names, language, password,
    root_admin through the same admin-flag service as /v1, external_id)."""
    user, ref = find(ports, number)
    record = ports.records.get(KIND, user.id) or {}
    current = attributes(user, ref, record)
    if "external_id" in fields:
        _free_external(ports, fields["external_id"], user.id)
    if fields.get("password"):
        check_password_policy(fields["password"])
    if fields.get("root_admin") is False and user.id == actor_id and user.is_admin:
        raise ConflictError("You cannot remove your own admin flag; ask another admin.", {"reason": "self"})
    # The unique claims first (username, then email), each given back when a later one fails, so
    # a refused change changes nothing.
    username = current["username"]
    claimed: str | None = None
    if fields.get("username") is not None:
        wanted = _check_username(str(fields["username"]))
        if wanted.lower() != str(username).lower():
            _claim_username(ports, wanted, user.id)
            claimed = wanted.lower()
        username = wanted
    if fields.get("email") is not None:
        email = normalise_email(str(fields["email"]))
        if email != user.email:
            try:
                ports.users.change_email(user.id, user.email, email)
            except ConflictError as exc:
                if claimed is not None:
                    ports.records.delete(USERNAME, claimed)
                raise taken("email") from exc
    if claimed is not None and record.get("username"):
        ports.records.delete(USERNAME, str(record["username"]).lower())
    first = fields.get("first_name") if fields.get("first_name") is not None else current["first_name"]
    last = fields.get("last_name") if fields.get("last_name") is not None else current["last_name"]
    if first != current["first_name"] or last != current["last_name"]:
        ports.users.set_name(user.id, check_name(f"{first} {last}".strip()))
    if fields.get("password"):
        ports.users.set_password_hash(user.id, ports.hasher.hash(fields["password"]))
    if fields.get("root_admin") is not None and bool(fields["root_admin"]) != user.is_admin:
        admin_service.set_admin(ports.admin, actor_id, user.id, bool(fields["root_admin"]))
    language = fields.get("language") if fields.get("language") is not None else current["language"]
    ports.records.put(
        KIND,
        user.id,
        _record({"first_name": first, "last_name": last, "language": language}, username, clock_iso(utcnow())),
    )
    if "external_id" in fields:
        try:
            ref = ports.ids.set_external(ref, fields["external_id"])
        except ConflictError as exc:
            raise taken("external_id") from exc
    return user_object(ports, ports.users.get(user.id), ref)


def delete_user(ports: UserPorts, actor_id: str, number: str) -> None:
    """``DELETE /users/{id}``: the account goes as with ``DELETE /v1/me`` (its empty tenants with
    it; refused for an admin or the last owner of a tenant with servers), then its ids and record."""
    user, ref = find(ports, number)
    if user.id == actor_id:
        raise ConflictError("You cannot delete your own account here.", {"reason": "self"})
    record = ports.records.get(KIND, user.id) or {}
    ports.remove(user.id, actor_id)
    if record.get("username"):
        ports.records.delete(USERNAME, str(record["username"]).lower())
    ports.records.delete(KIND, user.id)
    ports.ids.forget(ref)
