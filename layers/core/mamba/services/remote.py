"""The Wings callback API (wings-contract.md §5): what a node may ask and tell the panel.

Every function takes the authenticated ``Node`` (see ``authenticate_node``) and its ports.
A node only ever sees servers assigned to it; anything else is 404, exactly like an
unknown uuid. Nothing here holds a lock or waits: Wings calls back *during* the panel's own
calls to it (create, sync, every start), so each callback is a handful of single-item
reads and writes.

Errors raised (all ``DomainError``; the door renders them as ``{"errors": [...]}``):
``ValidationError`` 400, ``UnauthorizedError`` 401, ``ForbiddenError`` 403,
``NotFoundError`` 404, ``ConflictError`` 409, ``DependencyUnavailableError`` 503.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mamba.domain import servers as srv
from mamba.domain.blueprints import Blueprint
from mamba.domain.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    ValidationError,
)
from mamba.domain.nodes import Node
from mamba.domain.servers import Server
from mamba.ports import IdentityRepository
from mamba.services.audit import AuditLog

if TYPE_CHECKING:
    from mamba.services.accounts import User

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500
MAX_ACTIVITY_ENTRIES = 100
STOP_SIGNALS = frozenset({"SIGINT", "SIGTERM", "SIGABRT", "SIGKILL"})
CONFIG_PARSERS = frozenset({"file", "yaml", "properties", "ini", "json", "xml"})
SFTP_USERNAME = re.compile(r"^(?P<login>.+)\.(?P<short>[a-z0-9]{8})$", re.IGNORECASE)

# RBAC → the permission strings Wings' SFTP server enforces (§5.8).
SFTP_READ = ("file.read", "file.read-content")
SFTP_WRITE = ("file.create", "file.update", "file.delete")
SFTP_DENIED = "Authorization credentials were not correct, please try again."
# The catalogue permission an API key must carry to be used as an SFTP password.
SFTP_KEY_SCOPE = "files.sftp"
FILE_PERMISSIONS = frozenset({"files.read", "files.write"})


# --- what the remote API needs from a blueprint ---


@dataclass(frozen=True)
class ConfigFile:
    file: str
    parser: str
    replace: tuple[tuple[str, Any, str | None], ...]  # (match, replace_with, if_value)


@dataclass(frozen=True)
class BlueprintRuntime:
    """The parts of a blueprint (egg) Wings needs: process configuration and install script."""

    id: str
    startup_done: tuple[str, ...] = ()
    strip_ansi: bool = False
    stop_type: str = "command"  # command | signal | stop
    stop_value: str = "stop"
    configs: tuple[ConfigFile, ...] = ()
    file_denylist: tuple[str, ...] = ()
    install_image: str = "ghcr.io/pterodactyl/installers:debian"
    install_entrypoint: str = "bash"
    install_script: str = ""


# --- ports ---


class NodeDirectory(Protocol):
    def find_by_token_id(self, token_id: str) -> Node | None: ...
    def token(self, node: Node) -> str: ...


class ServerStore(Protocol):
    def get(self, server_uuid: str) -> Server: ...
    def save(self, server: Server) -> None: ...
    def on_node(self, node_id: str) -> list[Server]: ...
    def page_on_node(self, node_id: str, page: int, per_page: int) -> tuple[list[Server], int]: ...
    def add_activity(self, entries: list[srv.ActivityEntry]) -> int: ...


class BlueprintSource(Protocol):
    def runtime(self, blueprint_id: str) -> BlueprintRuntime: ...


@dataclass(frozen=True)
class SftpGrant:
    """What a verified SFTP login may do on one tenant: RBAC permissions and scope."""

    user_id: str
    permissions: frozenset[str]  # tenant permissions (files.read, files.write, ...) or {"*"}
    server_scope: frozenset[str] = frozenset()  # empty: every server of the tenant
    via: str = "password"  # or "api_key"


class SftpRefusedError(ForbiddenError):
    """An SFTP login refused. Wings gets 403 and the one generic message (it shows the user
    nothing more); ``details.reason`` says why, for the audit log only. ``user_id`` is the
    account when its credential was proven; ``member`` whether it belongs to the server's
    tenant. Only a proven member's refusal goes to the tenant's log (as on HTTP routes)."""

    def __init__(self, reason: str, user_id: str | None = None, via: str | None = None, member: bool = True) -> None:
        super().__init__(SFTP_DENIED, {"reason": reason})
        self.user_id = user_id
        self.via = via
        self.member = member and user_id is not None


class SftpCredentials(Protocol):
    def grant(self, login: str, secret: str, tenant_id: str, source_ip: str) -> SftpGrant:
        """Raises SftpRefusedError."""


Clock = Callable[[], str]


# --- authentication (§5.1) ---


def authenticate_node(authorization: str | None, nodes: NodeDirectory) -> Node:
    """``Authorization: Bearer <token_id>.<token>`` → the node.

    No header or another scheme → 401; not exactly two non-empty dot-separated parts → 400;
    an unknown token id or a wrong token → 403. The token is compared in constant time.
    """
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise UnauthorizedError("The required authorization heads were not present in the request.")
    parts = value.strip().split(".")
    if len(parts) != 2 or not all(parts):
        raise ValidationError("The authorization header is not of the form <token_id>.<token>.")
    token_id, token = parts
    node = nodes.find_by_token_id(token_id)
    expected = nodes.token(node) if node is not None else ""
    # compare_digest runs even for an unknown id, so the answer's timing says nothing.
    same = hmac.compare_digest(token.encode(), (expected or "\0" * len(token)).encode())
    if node is None or not expected or not same:
        raise ForbiddenError("You are not authorized to access this resource.")
    return node


def server_of_node(node: Node, server_uuid: str, servers: ServerStore) -> Server:
    """The server, if it is assigned to ``node``; otherwise 404 (as if it did not exist)."""
    if not srv.UUID_V4.match(server_uuid):
        raise NotFoundError("The requested server does not exist.", {"uuid": server_uuid})
    try:
        server = servers.get(server_uuid)
    except NotFoundError:
        server = None
    if server is None or server.node_id != node.id:
        raise NotFoundError("The requested server does not exist.", {"uuid": server_uuid})
    return server


# --- server list and configuration (§5.3, §5.4) ---


def _int_param(raw: str | None, default: int) -> int:
    try:
        return int(str(raw).strip()) if raw is not None and str(raw).strip() else default
    except ValueError:
        return default


def page_params(page: str | None, per_page: str | None) -> tuple[int, int]:
    """Laravel's reading: page 0, a negative or a non-number is page 1; per_page below 1 or
    not a number is the default 50, and is capped at 500."""
    number = _int_param(page, 1)
    size = _int_param(per_page, DEFAULT_PER_PAGE)
    if size < 1:
        size = DEFAULT_PER_PAGE
    return max(number, 1), min(size, MAX_PER_PAGE)


def list_servers(
    node: Node, page: str | None, per_page: str | None, servers: ServerStore, blueprints: BlueprintSource
) -> dict[str, Any]:
    """One page of the node's servers, every status included, with integer ``meta``.

    ``current_page`` is the page actually served (page 0 is served as 1, so Wings does not
    fetch page 1 again and load every server twice)."""
    number, size = page_params(page, per_page)
    found, total = servers.page_on_node(node.id, number, size)
    data = [{"uuid": s.uuid, **configuration(node, s, blueprints.runtime(s.blueprint_id))} for s in found]
    first = (number - 1) * size + 1
    return {
        "data": data,
        "meta": {
            "current_page": number,
            "from": first if data else None,
            "last_page": max(1, math.ceil(total / size)),
            "per_page": size,
            "to": first + len(data) - 1 if data else None,
            "total": total,
        },
    }


def server_configuration(node: Node, server_uuid: str, servers: ServerStore, blueprints: BlueprintSource) -> Any:
    server = server_of_node(node, server_uuid, servers)
    return configuration(node, server, blueprints.runtime(server.blueprint_id))


_PLACEHOLDER = re.compile(r"{{\s*(?P<name>(?:server|env)\.[A-Za-z0-9_.]+)\s*}}")


def _substitute(value: Any, values: Mapping[str, Any]) -> Any:
    """Replace ``{{server.*}}`` and ``{{env.*}}`` (Wings resolves only ``{{config.*}}``, §5.4).

    A value that is exactly one placeholder keeps the type of what it stands for."""
    if not isinstance(value, str):
        return value
    whole = _PLACEHOLDER.fullmatch(value.strip())
    if whole and whole.group("name") in values:
        return values[whole.group("name")]

    def one(match: re.Match[str]) -> str:
        found = values.get(match.group("name"))
        return match.group(0) if found is None else str(found).lower() if isinstance(found, bool) else str(found)

    return _PLACEHOLDER.sub(one, value)


def _placeholders(server: Server) -> dict[str, Any]:
    ip, port = server.allocation
    values: dict[str, Any] = {
        "server.build.default.ip": ip,
        "server.build.default.port": port,
        "server.build.memory": server.limits.memory_mb,
        "server.build.swap": server.limits.swap_mb,
        "server.build.disk": server.limits.disk_mb,
        "server.build.cpu": server.limits.cpu_percent,
        "server.build.io": server.limits.io_weight,
        "server.uuid": server.uuid,
        "server.name": server.name,
    }
    for key, value in server.environment.items():
        values[f"server.build.env.{key}"] = value
        values[f"env.{key}"] = value
    return values


def stop_configuration(stop_type: str, stop_value: str) -> dict[str, str]:
    """The stop instruction as Wings understands it. An egg's ``^C`` / ``^SIGTERM`` means a
    signal; sent as-is Wings would read ``C`` and SIGKILL the server (§8.11)."""
    value = (stop_value or "").strip()
    if stop_type == "command" and value.startswith("^"):
        name = value[1:].upper()
        name = {"C": "SIGINT"}.get(name, name if name.startswith("SIG") else f"SIG{name}")
        return {"type": "signal", "value": name if name in STOP_SIGNALS else "SIGINT"}
    if stop_type == "signal":
        name = value.upper() if value.upper().startswith("SIG") else f"SIG{value.upper()}"
        return {"type": "signal", "value": name if name in STOP_SIGNALS else "SIGTERM"}
    if stop_type == "stop":
        return {"type": "stop", "value": value}
    return {"type": "command", "value": value or "stop"}


def configuration(node: Node, server: Server, blueprint: BlueprintRuntime) -> dict[str, Any]:
    """The ``{settings, process_configuration}`` document of one server (§5.4).

    ``environment`` and ``allocations.mappings`` are always objects, ``process_configuration``
    is never null and every ``configs[]`` entry has ``file``, ``parser`` and ``replace``: a
    missing key there crashes the whole Wings process, not just the server (§8.3, §8.4)."""
    environment: dict[str, Any] = {
        str(k): v for k, v in server.environment.items() if isinstance(v, str | int | float | bool)
    }
    environment.update({"STARTUP": server.startup, "P_SERVER_LOCATION": node.location, "P_SERVER_UUID": server.uuid})
    mappings: dict[str, list[int]] = {}
    for ip, port in server.allocations:
        mappings.setdefault(ip, [])
        if port not in mappings[ip]:
            mappings[ip].append(port)
    values = _placeholders(server)
    configs = [
        {
            "file": config.file,
            "parser": config.parser if config.parser in CONFIG_PARSERS else "file",
            "replace": [
                {
                    "match": match,
                    **({"if_value": if_value} if if_value is not None else {}),
                    "replace_with": _substitute(replace_with, values),
                }
                for match, replace_with, if_value in config.replace
            ],
        }
        for config in blueprint.configs
    ]
    return {
        "settings": {
            "uuid": server.uuid,
            "meta": {"name": server.name, "description": server.description or ""},
            "suspended": server.suspended,
            "environment": environment,
            "invocation": server.startup,
            "skip_egg_scripts": server.skip_install_script,
            "build": {
                "memory_limit": int(server.limits.memory_mb),
                "swap": int(server.limits.swap_mb),
                "io_weight": int(server.limits.io_weight),
                "cpu_limit": int(server.limits.cpu_percent),
                "threads": server.limits.threads or None,
                "disk_space": int(server.limits.disk_mb),
                "oom_disabled": bool(server.limits.oom_disabled),
            },
            "container": {"image": server.docker_image},
            "allocations": {
                "force_outgoing_ip": False,
                "default": {"ip": server.allocation[0], "port": int(server.allocation[1])},
                "mappings": mappings,
            },
            "mounts": [],
            "egg": {"id": blueprint.id, "file_denylist": list(blueprint.file_denylist)},
        },
        "process_configuration": {
            "startup": {
                "done": list(blueprint.startup_done),
                "user_interaction": [],
                "strip_ansi": blueprint.strip_ansi,
            },
            "stop": stop_configuration(blueprint.stop_type, blueprint.stop_value),
            "configs": configs,
        },
    }


# --- installation (§5.6) and reset (§5.5) ---


def install_script(node: Node, server_uuid: str, servers: ServerStore, blueprints: BlueprintSource) -> dict[str, Any]:
    server = server_of_node(node, server_uuid, servers)
    blueprint = blueprints.runtime(server.blueprint_id)
    return {
        "container_image": blueprint.install_image,
        "entrypoint": blueprint.install_entrypoint,
        "script": blueprint.install_script.replace("\r\n", "\n"),
    }


def _flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be a boolean.", {"fields": [{"field": name, "message": "not a boolean"}]})
    return value


def report_install(node: Node, server_uuid: str, body: Any, servers: ServerStore, clock: Clock) -> Server:
    """Wings finished an install or reinstall: ``{"successful": bool, "reinstall": bool}``."""
    if not isinstance(body, dict) or "successful" not in body:
        raise ValidationError("The body must be {successful, reinstall}.")
    successful = _flag(body, "successful")
    _flag(body, "reinstall")
    server = server_of_node(node, server_uuid, servers)
    updated = srv.after_install(server, successful=successful, now=clock())
    servers.save(updated)
    return updated


def reset(node: Node, servers: ServerStore, clock: Clock) -> int:
    """Wings (re)booted: installs it was running are gone and its servers are stopped.
    Returns how many servers changed."""
    now = clock()
    changed = 0
    for server in servers.on_node(node.id):
        updated = srv.after_reset(server, now=now)
        if updated != server:
            servers.save(updated)
            changed += 1
    return changed


def transfer_result(node: Node, server_uuid: str, servers: ServerStore) -> None:
    """Transfers are not started by this panel yet, so no transfer row exists: 409 as in §5.7."""
    server_of_node(node, server_uuid, servers)
    raise ConflictError("No transfer is in progress for this server.", {"uuid": server_uuid})


# --- SFTP (§5.8) ---


def sftp_permissions(grant: SftpGrant, server: Server) -> list[str]:
    """Wings' file permission strings for this grant on this server ([] means no access)."""
    if grant.server_scope and server.uuid not in grant.server_scope:
        return []
    if "*" in grant.permissions:
        return ["*"]
    if "files.read" not in grant.permissions:
        return []
    found = list(SFTP_READ)
    if "files.write" in grant.permissions:
        found += SFTP_WRITE
    return found


def client_ip(raw: Any) -> str:
    """The IP of Wings' ``ip`` field (``203.0.113.7:51234``, ``[2001:db8::1]:51234``, or a
    bare address), normalised; "" when it is missing or not an address."""
    text = str(raw or "").strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return ""


@dataclass(frozen=True)
class SftpAudit:
    """Where ``sftp_auth`` writes its entry (one per login, allowed or refused)."""

    log: AuditLog
    request_id: str | None = None


def sftp_auth(
    node: Node, body: Any, servers: ServerStore, credentials: SftpCredentials, audit: SftpAudit | None = None
) -> dict[str, Any]:
    """A login on the node's SFTP server: ``<panel login>.<first 8 of the server uuid>`` and a
    password or an API key. Any refusal is 403 with one message (Wings reads any 4xx as
    "invalid credentials"); only a malformed body is 400.

    Every login leaves an audit entry: in the server's tenant log when the account proved its
    credential, else in the platform security log (the tenant is named by the caller only).
    Raises ValidationError, SftpRefusedError."""
    if not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object.")
    kind, username, secret = body.get("type", "password"), body.get("username"), body.get("password")
    if kind not in ("password", "public_key") or not isinstance(username, str) or not isinstance(secret, str):
        raise ValidationError("type, username and password are required.")
    ip = client_ip(body.get("ip"))
    server: Server | None = None
    try:
        if kind == "public_key":
            raise SftpRefusedError("public_key_unsupported")
        matched = SFTP_USERNAME.match(username.strip())
        if not matched:
            raise SftpRefusedError("bad_username")
        login, short = matched.group("login"), matched.group("short").lower()
        candidates = [s for s in servers.on_node(node.id) if s.short_id == short]
        if len(candidates) != 1:
            raise SftpRefusedError("unknown_server")
        server = candidates[0]
        grant = credentials.grant(login, secret, server.tenant_id, ip)
        if server.suspended:
            raise SftpRefusedError("server_suspended", grant.user_id, grant.via)
        permissions = sftp_permissions(grant, server)
        if not permissions:
            raise SftpRefusedError("no_file_permission", grant.user_id, grant.via)
    except SftpRefusedError as refused:
        _audit_sftp(audit, node, server, username, ip, refused.user_id, refused.via, refused.member, refused)
        raise
    _audit_sftp(audit, node, server, username, ip, grant.user_id, grant.via, True, None)
    return {"server": server.uuid, "user": grant.user_id, "permissions": permissions}


def _audit_sftp(
    audit: SftpAudit | None,
    node: Node,
    server: Server | None,
    username: str,
    ip: str,
    user_id: str | None,
    via: str | None,
    member: bool,
    refused: SftpRefusedError | None,
) -> None:
    if audit is None:
        return
    from mamba.services import audit as audit_log

    # The tenant's log: a proven member of it (or a platform admin it let in). Anyone else's
    # attempt goes to the security log, with what they typed and the tenant they aimed at.
    verified = member and server is not None
    details: dict[str, Any] = {"node_id": node.id}
    if refused is not None:
        details["reason"] = refused.details["reason"]
    if not verified:
        details["username"] = username[:200]  # capped: it is free text
        if server is not None:
            details["tenant_id"] = server.tenant_id
    audit_log.record(
        audit.log,
        action="sftp.sign_in",
        result=audit_log.SUCCESS if refused is None else audit_log.DENIED,
        tenant_id=server.tenant_id if verified and server is not None else None,
        security=not verified,
        actor_id=user_id,
        via=via,
        target=f"servers/{server.uuid}" if server is not None else None,
        ip=ip or None,
        request_id=audit.request_id,
        status=200 if refused is None else 403,
        details=details,
    )


@dataclass
class MembershipFacts:
    """What ``PanelSftpCredentials`` needs about a user and their membership of a tenant."""

    user_id: str
    active: bool
    is_admin: bool
    permissions: frozenset[str] | None  # None: not a member (or the grant expired)
    server_scope: str | None = None
    tenant_suspended: bool = False  # by an admin or for non-payment
    needs_2fa: bool = False  # the tenant requires 2FA and the user has not enrolled
    tenant_requires_2fa: bool = False


class AccountLookup(Protocol):
    def find_by_email(self, email: str) -> User | None: ...


class MembershipLookup(Protocol):
    def facts(self, user_id: str, tenant_id: str) -> MembershipFacts | None: ...


class ApiKeyChecker(Protocol):
    def check(self, key: str, source_ip: str) -> tuple[str, frozenset[str], frozenset[str]] | None: ...


IdentityLoader = IdentityRepository


class IdentityMemberships:
    """``MembershipLookup`` over the guard's identity repository (one BatchGetItem of the
    user, the membership and the tenant), with the guard's own rules for each."""

    def __init__(self, identity: IdentityLoader, now: Callable[[], float]) -> None:
        self.identity = identity
        self.now = now

    def facts(self, user_id: str, tenant_id: str) -> MembershipFacts | None:
        from mamba.auth.permissions import BUILTIN_ROLES

        loaded = self.identity.load(user_id, tenant_id)
        user, membership, tenant = loaded.user, loaded.membership, loaded.tenant
        if user is None:
            return None
        permissions: frozenset[str] | None = None
        scope: str | None = None
        if membership is not None and tenant is not None:
            expired = membership.expires_at is not None and float(membership.expires_at) <= self.now()
            if not expired:
                stored = membership.permissions
                permissions = (
                    frozenset(str(p) for p in stored)
                    if stored is not None
                    else BUILTIN_ROLES.get(str(membership.role), frozenset())
                )
                scope = membership.server_id
        return MembershipFacts(
            user_id=user_id,
            active=user.status == "active",
            is_admin=bool(user.is_admin),
            permissions=permissions,
            server_scope=scope,
            tenant_suspended=tenant is not None
            and (tenant.status == "suspended" or getattr(tenant, "billing_state", None) == "suspended"),
            needs_2fa=tenant is not None and bool(tenant.require_2fa) and not bool(user.totp_enabled),
            tenant_requires_2fa=tenant is not None and bool(tenant.require_2fa),
        )


class IdentityApiKeys:
    """``ApiKeyChecker`` with the guard's key rules (``mamba.auth.api_keys``): secret,
    revocation, expiry, allowed IPs and the owner's last credential reset."""

    def __init__(self, identity: IdentityLoader, record_use: Callable[[str, int, str], None]) -> None:
        self.identity = identity
        self.record_use = record_use  # mamba.auth.api_keys.recorder: the key's last use

    def check(self, key: str, source_ip: str) -> tuple[str, frozenset[str], frozenset[str]] | None:
        from mamba.auth import api_keys
        from mamba.auth.credentials import Credential

        try:
            user_id, key_id, secret = api_keys.parse_key(key)
            loaded = self.identity.load(user_id, None, key_id)
            credential = Credential(user_id=user_id, kind="api_key", key_id=key_id, key_secret=secret)
            # Like the guard: a key created before the owner's last credential reset is dead.
            not_before = getattr(loaded.user, "credentials_reset_at", None)
            grant = api_keys.check_key(
                loaded.api_key, credential, source_ip, record_use=self.record_use, not_before=not_before
            )
        except (UnauthorizedError, ForbiddenError):
            return None
        return user_id, grant.scopes, grant.server_ids


class PasswordSignIn(Protocol):
    def __call__(self, email: str, password: str, source_ip: str, refuse: Callable[[User], bool]) -> User:
        """``mamba.services.sessions.check_password`` bound to the account ports: the user, or
        RateLimitedError / UnauthorizedError."""


class PanelSftpCredentials:
    """Panel logins for SFTP, under the rules of the HTTP sign-in and the guard:

    * ``<email>`` + password: counted in the login windows and the lockout before the password
      is checked (``sessions.check_password``); refused for an account with 2FA, or in a
      tenant that requires it (a password alone would skip the second factor);
    * ``<email>`` + an API key (``mhp_...``) carrying ``files.sftp``: its scopes and server
      list narrow whatever the account holds, a platform admin's grant included;
    * a platform admin who is not a member gets nothing unless ``admin_access`` (the
      ``SFTP_ADMIN_ACCESS`` setting) is on;
    * nothing while the tenant is suspended (by an admin or for non-payment).
    """

    def __init__(
        self,
        accounts: AccountLookup,
        memberships: MembershipLookup,
        password_sign_in: PasswordSignIn,
        api_keys: ApiKeyChecker | None = None,
        admin_access: bool = False,
    ) -> None:
        self.accounts = accounts
        self.memberships = memberships
        self.password_sign_in = password_sign_in
        self.api_keys = api_keys
        self.admin_access = admin_access

    def grant(self, login: str, secret: str, tenant_id: str, source_ip: str) -> SftpGrant:
        if secret.startswith("mhp_") and self.api_keys is not None:
            return self._key_grant(login, secret, tenant_id, source_ip)
        return self._password_grant(login, secret, tenant_id, source_ip)

    def _password_grant(self, login: str, secret: str, tenant_id: str, source_ip: str) -> SftpGrant:
        from mamba.domain.errors import RateLimitedError

        seen: dict[str, MembershipFacts | None] = {}

        def second_factor_on(user: Any) -> bool:
            facts = seen[user.id] = self.memberships.facts(user.id, tenant_id)
            return bool(user.totp_enabled) or (facts is not None and facts.tenant_requires_2fa)

        try:
            user = self.password_sign_in(login, secret, source_ip, second_factor_on)
        except RateLimitedError as exc:
            raise SftpRefusedError("rate_limited") from exc
        except UnauthorizedError as exc:
            raise SftpRefusedError(str(exc.details.get("reason") or "invalid_credentials")) from exc
        facts = seen.get(user.id) or self.memberships.facts(user.id, tenant_id)
        return self._membership_grant(user.id, "password", facts, None, frozenset())

    def _key_grant(self, login: str, secret: str, tenant_id: str, source_ip: str) -> SftpGrant:
        assert self.api_keys is not None
        user = self.accounts.find_by_email(login)
        checked = self.api_keys.check(secret, source_ip)
        if checked is None or user is None or checked[0] != user.id:
            raise SftpRefusedError("invalid_api_key")
        _, scopes, key_servers = checked
        facts = self.memberships.facts(user.id, tenant_id)
        return self._membership_grant(user.id, "api_key", facts, scopes, key_servers)

    def _membership_grant(
        self,
        user_id: str,
        via: str,
        facts: MembershipFacts | None,
        scopes: frozenset[str] | None,
        key_servers: frozenset[str],
    ) -> SftpGrant:
        if facts is None or not facts.active:
            raise SftpRefusedError("inactive", user_id, via, member=False)
        if facts.permissions is None and not facts.is_admin:
            # Not a member: the tenant exists only for its members (the guard's 404).
            raise SftpRefusedError("not_a_member", user_id, via, member=False)
        if facts.permissions is None and not self.admin_access:
            raise SftpRefusedError("admin_sftp_disabled", user_id, via, member=False)
        if scopes is not None and SFTP_KEY_SCOPE not in scopes:
            raise SftpRefusedError("api_key_without_files_sftp", user_id, via)
        if facts.tenant_suspended:
            raise SftpRefusedError("tenant_suspended", user_id, via)
        if facts.needs_2fa:
            raise SftpRefusedError("two_factor_required", user_id, via)
        if facts.permissions is None:
            # The key's scopes come before the admin grant, as the guard applies them before
            # admin rights on every HTTP route: an admin's key gets what the key allows.
            admin = frozenset({"*"}) if scopes is None else FILE_PERMISSIONS & scopes
            return SftpGrant(user_id=user_id, permissions=admin, server_scope=key_servers, via=via)
        granted = facts.permissions if scopes is None else facts.permissions & scopes
        if scopes is not None and SFTP_KEY_SCOPE not in granted:
            # The key carries files.sftp but the member's role does not.
            raise SftpRefusedError("role_without_files_sftp", user_id, via)
        scope = set(key_servers)
        if facts.server_scope is not None:
            scope = {facts.server_scope} if not scope or facts.server_scope in scope else {"-none-"}
        return SftpGrant(user_id=user_id, permissions=granted, server_scope=frozenset(scope), via=via)


# --- activity (§5.10) ---


@dataclass(frozen=True)
class ActivityIn:
    server_uuid: str
    event: str
    timestamp: str
    metadata: dict[str, Any]
    user_id: str | None
    ip: str | None


def parse_activity(body: Any) -> list[ActivityIn]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ValidationError("The body must be {data: [...]}.")
    if len(body["data"]) > MAX_ACTIVITY_ENTRIES:
        raise ValidationError(f"At most {MAX_ACTIVITY_ENTRIES} entries per call.")
    found: list[ActivityIn] = []
    for raw in body["data"]:
        if not isinstance(raw, dict):
            raise ValidationError("Each activity entry must be an object.")
        server, event, timestamp = raw.get("server"), raw.get("event"), raw.get("timestamp")
        if not isinstance(server, str) or not isinstance(event, str) or not isinstance(timestamp, str):
            raise ValidationError("Each activity entry needs server, event and timestamp strings.")
        metadata = raw.get("metadata")
        user = raw.get("user")
        ip = raw.get("ip")
        found.append(
            ActivityIn(
                server_uuid=server,
                event=event,
                timestamp=timestamp,
                metadata=metadata if isinstance(metadata, dict) else {},
                user_id=user if isinstance(user, str) and user else None,
                ip=ip if isinstance(ip, str) and ip else None,
            )
        )
    return found


def record_activity(node: Node, body: Any, servers: ServerStore) -> tuple[int, int]:
    """Store the node's activity batch in the servers' activity logs. Events that do not start
    with ``server:`` and servers not on this node are skipped (as the reference panel does).
    Returns (stored, skipped). Storing is idempotent, because Wings re-sends a batch after an error."""
    entries = parse_activity(body)
    on_node: dict[str, Server | None] = {}
    kept: list[srv.ActivityEntry] = []
    for entry in entries:
        if not entry.event.startswith("server:"):
            continue
        if entry.server_uuid not in on_node:
            try:
                on_node[entry.server_uuid] = server_of_node(node, entry.server_uuid, servers)
            except NotFoundError:
                on_node[entry.server_uuid] = None
        server = on_node[entry.server_uuid]
        if server is None:
            continue
        kept.append(
            srv.ActivityEntry(
                server_uuid=server.uuid,
                tenant_id=server.tenant_id,
                event=entry.event,
                timestamp=entry.timestamp,
                metadata=entry.metadata,
                user_id=entry.user_id,
                ip=entry.ip,
                node_id=node.id,
            )
        )
    if kept:
        servers.add_activity(kept)
    return len(kept), len(entries) - len(kept)


# --- blueprints as Wings needs them ---


class BlueprintRepository(Protocol):
    def get(self, blueprint_id: str) -> Blueprint: ...


def runtime_of(blueprint: Blueprint) -> BlueprintRuntime:
    return BlueprintRuntime(
        id=blueprint.id,
        startup_done=tuple(blueprint.startup_done),
        strip_ansi=blueprint.strip_ansi,
        stop_type=blueprint.stop_type,
        stop_value=blueprint.stop_value,
        configs=tuple(
            ConfigFile(
                file=config.file,
                parser=config.parser,
                replace=tuple((r.match, r.replace_with, r.if_value) for r in config.replace),
            )
            for config in blueprint.config_files
        ),
        file_denylist=tuple(blueprint.file_denylist),
        install_image=blueprint.install_container,
        install_entrypoint=blueprint.install_entrypoint,
        install_script=blueprint.install_script,
    )


class RepositoryBlueprints:
    """``BlueprintSource`` over the blueprint repository. A server whose blueprint was deleted
    still gets a valid document (empty process configuration) rather than failing a node's
    whole boot: Wings aborts the boot on any error answering the server list."""

    def __init__(self, repository: BlueprintRepository) -> None:
        self.repository = repository
        self._cache: dict[str, BlueprintRuntime] = {}

    def runtime(self, blueprint_id: str) -> BlueprintRuntime:
        if blueprint_id not in self._cache:
            try:
                self._cache[blueprint_id] = runtime_of(self.repository.get(blueprint_id))
            except NotFoundError:
                self._cache[blueprint_id] = BlueprintRuntime(id=blueprint_id)
        return self._cache[blueprint_id]
