"""SFTP sign-in on a node (wings-contract.md §5.8): who may open a server's files over SFTP,
under the rules of the HTTP sign-in and the guard.

``sftp_auth`` answers the node's ``POST /api/remote/sftp/auth`` (the node is authenticated
by ``mamba.services.remote_auth``); ``PanelSftpCredentials`` turns a panel login (password or
API key) into an ``SftpGrant``; ``sftp_permissions`` maps that grant to the file permission
strings Wings' SFTP server enforces.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mamba.domain.accounts import User
from mamba.domain.errors import ForbiddenError, UnauthorizedError, ValidationError
from mamba.domain.nodes import Node
from mamba.domain.servers import Server
from mamba.ports import IdentityRepository
from mamba.services.audit import AuditLog
from mamba.services.remote_auth import ServerStore

SFTP_USERNAME = re.compile(r"^(?P<login>.+)\.(?P<short>[a-z0-9]{8})$", re.IGNORECASE)

# RBAC → the permission strings Wings' SFTP server enforces (§5.8).
SFTP_READ = ("file.read", "file.read-content")
SFTP_WRITE = ("file.create", "file.update", "file.delete")
SFTP_DENIED = "Authorization credentials were not correct, please try again."
# The catalogue permission an API key must carry to be used as an SFTP password.
SFTP_KEY_SCOPE = "files.sftp"
FILE_PERMISSIONS = frozenset({"files.read", "files.write"})


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
        loaded = self.identity.load(user_id, tenant_id)
        user, membership, tenant = loaded.user, loaded.membership, loaded.tenant
        if user is None:
            return None
        permissions: frozenset[str] | None = None
        scope: str | None = None
        if membership is not None and tenant is not None:
            if not membership.expired(self.now()):
                permissions = membership.effective_permissions
                scope = membership.server_id
        return MembershipFacts(
            user_id=user_id,
            active=user.status == "active",
            is_admin=user.is_admin,
            permissions=permissions,
            server_scope=scope,
            tenant_suspended=tenant is not None and tenant.suspended,
            needs_2fa=tenant is not None and tenant.require_2fa and not user.has_second_factor,
            tenant_requires_2fa=tenant is not None and tenant.require_2fa,
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
            not_before = loaded.user.credentials_reset_at if loaded.user is not None else None
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
            return bool(user.has_second_factor) or (facts is not None and facts.tenant_requires_2fa)

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
