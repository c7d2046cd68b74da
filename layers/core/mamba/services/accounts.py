"""Accounts: users, the platform admin flag, and tenants created with their owner.

Used by ``mamba create-admin`` and ``mamba seed``; the identity API builds on the same
records and ports. The ports are declared here, next to their only callers so far; they
move to ``mamba.ports`` when a second service family needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from mamba.auth.common_passwords import is_common
from mamba.domain.clock import iso, new_id, utcnow
from mamba.domain.errors import ConflictError, NotFoundError, UnauthorizedError, ValidationError

MAX_EMAIL_LENGTH = 254
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MAX_TENANT_NAME_LENGTH = 100
OWNER_ROLE = "owner"


@dataclass(frozen=True)
class User:
    id: str
    email: str
    created_at: str
    name: str | None = None
    password_hash: str | None = None
    is_admin: bool = False
    email_verified: bool = False
    status: str = "active"


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    created_at: str
    status: str = "active"


@dataclass(frozen=True)
class Membership:
    tenant_id: str
    user_id: str
    role: str
    created_at: str


class UserRepository(Protocol):
    def add(self, user: User) -> None:
        """Raises ConflictError when the email (or the id) is taken."""

    def get(self, user_id: str) -> User:
        """Raises NotFoundError."""

    def find_by_email(self, email: str) -> User | None: ...

    def set_admin(self, user_id: str, is_admin: bool) -> None:
        """Raises NotFoundError."""

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Raises NotFoundError."""


class TenantRepository(Protocol):
    def add_with_owner(self, tenant: Tenant, owner: Membership) -> None:
        """Raises ConflictError when the tenant exists, NotFoundError when the owner does not."""

    def get(self, tenant_id: str) -> Tenant:
        """Raises NotFoundError."""

    def memberships_of_user(self, user_id: str) -> list[Membership]: ...


class PasswordHashing(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str | None, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


@dataclass(frozen=True)
class AdminResult:
    user: User
    created: bool
    promoted: bool


def _now() -> str:
    return iso(utcnow())


def normalise_email(email: str) -> str:
    """Lower-cased and stripped. Raises ValidationError unless it looks like local@domain.tld."""
    value = email.strip().lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain.strip(".") or len(value) > MAX_EMAIL_LENGTH or " " in value:
        raise ValidationError("The email address is not valid.", {"field": "email"})
    return value


def check_password_policy(password: str, field: str = "password") -> None:
    """Raises ValidationError unless the password is 12-128 characters and not a common one."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationError(
            f"The password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long.", {"field": field}
        )
    if is_common(password):
        raise ValidationError("The password is too common; choose another.", {"field": field})


def check_tenant_name(name: str) -> str:
    value = name.strip()
    if not value or len(value) > MAX_TENANT_NAME_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError(
            f"The tenant name must be 1 to {MAX_TENANT_NAME_LENGTH} printable characters.", {"field": "name"}
        )
    return value


def create_user(
    users: UserRepository,
    hasher: PasswordHashing,
    email: str,
    password: str,
    *,
    name: str | None = None,
    is_admin: bool = False,
    email_verified: bool = False,
    now: Callable[[], str] = _now,
) -> User:
    """Create an account with a unique email.

    Raises ValidationError (email or password policy) and ConflictError (the email is taken,
    decided by the repository's conditional write, so two concurrent creates cannot both win).
    """
    address = normalise_email(email)
    check_password_policy(password)
    user = User(
        id=new_id("usr"),
        email=address,
        created_at=now(),
        name=name,
        password_hash=hasher.hash(password),
        is_admin=is_admin,
        email_verified=email_verified,
    )
    users.add(user)
    return user


def create_admin(
    users: UserRepository, hasher: PasswordHashing, email: str, password: str, *, now: Callable[[], str] = _now
) -> AdminResult:
    """Make ``email`` a platform admin: create the account, or promote the existing one.

    An existing account is promoted only when ``password`` is its password, so knowing an
    email is not enough to gain admin rights over it. An account created here has its email
    marked verified: the operator running the command vouches for it.

    Raises ValidationError (policy), UnauthorizedError (existing account, wrong password)
    and ConflictError (another create won the same email meanwhile).
    """
    address = normalise_email(email)
    existing = users.find_by_email(address)
    if existing is None:
        user = create_user(users, hasher, address, password, is_admin=True, email_verified=True, now=now)
        return AdminResult(user=user, created=True, promoted=False)
    if not hasher.verify(existing.password_hash, password):
        raise UnauthorizedError("The password does not match the existing account.", {"email": address})
    if existing.password_hash and hasher.needs_rehash(existing.password_hash):
        users.set_password_hash(existing.id, hasher.hash(password))
    if existing.is_admin:
        return AdminResult(user=existing, created=False, promoted=False)
    users.set_admin(existing.id, True)
    return AdminResult(user=replace(existing, is_admin=True), created=False, promoted=True)


def create_tenant(
    tenants: TenantRepository,
    name: str,
    owner_id: str,
    *,
    tenant_id: str | None = None,
    now: Callable[[], str] = _now,
) -> Tenant:
    """Create a tenant and its owner's membership in one transaction.

    Raises ValidationError (name), ConflictError (the tenant id exists) and NotFoundError
    (no such owner).
    """
    created_at = now()
    tenant = Tenant(id=tenant_id or new_id("tn"), name=check_tenant_name(name), created_at=created_at)
    tenants.add_with_owner(
        tenant, Membership(tenant_id=tenant.id, user_id=owner_id, role=OWNER_ROLE, created_at=created_at)
    )
    return tenant


def ensure_tenant(
    tenants: TenantRepository, tenant_id: str, name: str, owner_id: str, *, now: Callable[[], str] = _now
) -> tuple[Tenant, bool]:
    """The tenant with this fixed id, created (with its owner) if it is missing; (tenant, created).

    Idempotent, also against a concurrent run: losing the conditional create reads the winner's.
    Raises ValidationError and NotFoundError as ``create_tenant``.
    """
    try:
        return tenants.get(tenant_id), False
    except NotFoundError:
        pass
    try:
        return create_tenant(tenants, name, owner_id, tenant_id=tenant_id, now=now), True
    except ConflictError:
        return tenants.get(tenant_id), False
