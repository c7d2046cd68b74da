"""The local demo seed: a platform admin and the "Demo" tenant it owns.

This is not a migration: a migration runs everywhere, and this data must never reach
production by accident. It runs only when asked (``mamba seed``, or ``make run`` through
``mamba.cli.seed()``) and refuses when ``MAMBA_ENV`` is ``deployed``; production admins come
from ``mamba create-admin``.

Idempotent: the admin is looked up by email and the Demo tenant has a fixed id, so a
second run creates nothing. The inputs are ``MAMBA_ADMIN_EMAIL`` and ``MAMBA_ADMIN_PASSWORD``,
read by ``mamba.config`` like every variable (``Settings.seed_admin_email`` and
``seed_admin_password``). With no password given, one is generated once and kept in
``<local dir>/admin.txt`` (mode 0600), and later runs reuse it, so the login printed by
``make run`` stays the same across restarts of the in-memory stack.

The simulator's blueprints are not seeded here but by the local stack (``local.blueprints``).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mamba.domain import account_policy
from mamba.domain.errors import ValidationError

if TYPE_CHECKING:
    from mamba.config import Settings
    from mamba.services.accounts import PasswordHashing, TenantRepository, UserRepository

DEFAULT_ADMIN_EMAIL = "admin@mamba.local"
DEMO_TENANT_ID = "tn_demo"
DEMO_TENANT_NAME = "Demo"
ADMIN_FILE = "admin.txt"


class SeedRefusedError(ValidationError):
    """The seed was asked to run where it must not (deployed mode)."""

    code = "SEED_REFUSED"


@dataclass(frozen=True)
class SeedResult:
    admin_email: str
    admin_password: str
    password_source: str  # "MAMBA_ADMIN_PASSWORD", "argument", "generated" or "<path of admin.txt>"
    password_file: Path | None  # where a generated password is kept
    admin_created: bool
    admin_promoted: bool
    tenant_id: str
    tenant_name: str
    tenant_created: bool

    @property
    def created(self) -> tuple[str, ...]:
        return tuple(name for name, made in (("admin", self.admin_created), ("tenant", self.tenant_created)) if made)


def _read_admin_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.startswith("#"):
                values[key.strip()] = value.strip()
    return values


def _write_admin_file(path: Path, email: str, password: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(
            "# The local admin made by `mamba seed`. Git-ignored; local use only.\n"
            f"email={email}\npassword={password}\n"
        )
    os.chmod(path, 0o600)


def _password(email: str, given: str | None, configured: str | None, folder: Path) -> tuple[str, str, Path | None]:
    if given:
        return given, "argument", None
    if configured:
        return configured, "MAMBA_ADMIN_PASSWORD", None
    path = folder / ADMIN_FILE
    stored = _read_admin_file(path)
    if stored.get("email") == email and stored.get("password"):
        return stored["password"], str(path), path
    generated = secrets.token_urlsafe(18)
    # Written before the account exists, so a failure after this point never loses the password.
    _write_admin_file(path, email, generated)
    return generated, "generated", path


def seed(
    admin_email: str | None = None,
    admin_password: str | None = None,
    *,
    settings: Settings,
    users: UserRepository,
    tenants: TenantRepository,
    hasher: PasswordHashing,
    local_dir: Path | None = None,
) -> SeedResult:
    """Create the local admin and the Demo tenant if they are missing.

    Arguments win over ``MAMBA_ADMIN_EMAIL`` / ``MAMBA_ADMIN_PASSWORD`` (from ``settings``),
    which win over the defaults (``admin@mamba.local``,
    a generated password). An existing admin is kept as it
    is (its password is not changed or checked); an existing non-admin account with that
    email is promoted only if the password matches.

    Raises SeedRefusedError in deployed mode, ValidationError for a weak password or bad
    email, UnauthorizedError when an existing non-admin account's password differs.
    The CLI wires ``settings`` and the repositories (``mamba.cli.seed``).
    """
    from mamba.services import accounts

    if settings.env == "deployed":
        raise SeedRefusedError(
            "mamba seed creates local demo data and refuses to run with MAMBA_ENV=deployed; "
            "use `mamba create-admin` in production."
        )
    folder = local_dir or Path(settings.local_dir)
    email = account_policy.normalise_email(admin_email or settings.seed_admin_email or DEFAULT_ADMIN_EMAIL)
    password, source, password_file = _password(email, admin_password, settings.seed_admin_password, folder)
    if source in ("argument", "MAMBA_ADMIN_PASSWORD"):
        account_policy.check_password_policy(password, field="MAMBA_ADMIN_PASSWORD")

    existing = users.find_by_email(email)
    if existing is not None and existing.is_admin:
        admin, created, promoted = existing, False, False
    else:
        result = accounts.create_admin(users, hasher, email, password)
        admin, created, promoted = result.user, result.created, result.promoted

    tenant, tenant_created = accounts.ensure_tenant(tenants, DEMO_TENANT_ID, DEMO_TENANT_NAME, admin.id)
    return SeedResult(
        admin_email=email,
        admin_password=password,
        password_source=source,
        password_file=password_file,
        admin_created=created,
        admin_promoted=promoted,
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        tenant_created=tenant_created,
    )
