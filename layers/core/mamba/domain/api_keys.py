"""API keys: the stored key (only the SHA-256 of its secret) and what its owner sees.
Standard library only; the key format and the guard's checks are ``mamba.auth.api_keys``,
the use cases ``mamba.services.api_keys``."""

from __future__ import annotations

from dataclasses import dataclass, field

KEY_PREFIX = "mhp_"

# How a key is spelled: Mamba's own, a Pterodactyl client key, a Pterodactyl application key
# (docs/pterodactyl-api.md). The body after the prefix is the same for all three.
KEY_PREFIXES: dict[str, str] = {"mamba": KEY_PREFIX, "pterodactyl": "ptlc_", "application": "ptla_"}


def display_prefix(user_id: str, key_id: str, key_format: str = "mamba") -> str:
    """The public part of a key, shown in lists so a user can recognise it."""
    return f"{KEY_PREFIXES.get(key_format, KEY_PREFIX)}{user_id}.{key_id}"


@dataclass(frozen=True)
class ApiKey:
    id: str
    user_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: str
    secret_hash: str
    hint: str
    server_ids: tuple[str, ...] = ()
    allowed_ips: tuple[str, ...] = ()
    expires_at: int | None = None
    revoked_at: str | None = None
    last_used_at: int | None = None
    last_used_ip: str | None = None
    replaced_by: str | None = None  # the key that rotated this one out (its grace ends at expires_at)
    key_format: str = "mamba"  # a key of KEY_PREFIXES; "application" keys open only /api/application
    # An application key's rights, (resource, "read" | "read-write") pairs (mamba.domain.pterodactyl).
    rights: tuple[tuple[str, str], ...] = ()

    @property
    def prefix(self) -> str:
        return display_prefix(self.user_id, self.id, self.key_format)

    @property
    def is_application(self) -> bool:
        return self.key_format == "application"

    def right(self, resource: str) -> str:
        return dict(self.rights).get(resource, "none")


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    plaintext: str  # shown once, in the 201; never stored


@dataclass(frozen=True)
class KeyPage:
    items: list[ApiKey] = field(default_factory=list)
    next_cursor: str | None = None
