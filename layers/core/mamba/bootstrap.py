"""Composition root: builds the real adapters on first use, cached per container.

Nothing here runs at import time; every builder is called by a door (``functions/``, ``app.py``,
the HTTP boundary in ``mamba.web``, the CLI) when it needs it. Services, auth, adapters and
migrations never import this module: they receive what they need as parameters.

Tests replace a builder with :func:`override` (typed by :class:`Overrides`), never by patching
this module's attributes.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, Unpack, cast

from mamba.config import Settings, get_settings
from mamba.observability import configure, current_request_id

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from mamba.adapters.dynamo.pagination import CursorCodec
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.adapters.wings.breaker import DynamoCircuitBreaker
    from mamba.auth.guard import GuardPorts
    from mamba.auth.sftp import SftpCredentials
    from mamba.domain.accounts import AccountPolicy, User
    from mamba.domain.nodes import Node
    from mamba.domain.quotas import BackupSettingsFacts, Quotas
    from mamba.domain.tenancy import InvitationLimits
    from mamba.migrations.model import MigrationLedger
    from mamba.ports import (
        AllocationRepository,
        AuditLog,
        BackupRepository,
        BackupStore,
        BillingRepository,
        BlueprintRepository,
        Captcha,
        DeadLetterErrors,
        DeadLetterQueue,
        EventPublisher,
        EventQueue,
        FleetReader,
        FleetStats,
        HealthProbes,
        HostResolver,
        IdentityRepository,
        Mailer,
        NodeAgent,
        NodeAgentFactory,
        NodeHealthStore,
        NodeRepository,
        NotificationStore,
        OperationRepository,
        PaymentGateway,
        PlacementStore,
        PteroIds,
        PteroRecords,
        RateLimiter,
        ServerNetworkStore,
        ServerRepository,
        TenantDataStore,
        TokenCipher,
        WebhookVerifier,
        Workflows,
    )
    from mamba.services.account_deletion import AccountDeletionPorts
    from mamba.services.accounts import AccountPorts, PasswordHashing, UserRepository
    from mamba.services.admin import AdminRepository
    from mamba.services.api_keys import ApiKeyRepository
    from mamba.services.backups import BackupPorts
    from mamba.services.billing import BillingPorts
    from mamba.services.catalog import UsageReader
    from mamba.services.metrics import EventStore, MetricsPorts, MetricsStore
    from mamba.services.notifications import NotifyPorts
    from mamba.services.oauth import IdentityProvider, OAuthPorts
    from mamba.services.operations import RetryPreparer
    from mamba.services.passkeys import PasskeyPorts
    from mamba.services.pterodactyl.client_servers import ClientPorts as PteroClientPorts
    from mamba.services.pterodactyl.nests import NestPorts as PteroNestPorts
    from mamba.services.pterodactyl.nodes import NodePorts as PteroNodePorts
    from mamba.services.pterodactyl.users import UserPorts as PteroUserPorts
    from mamba.services.retention import RetentionPorts
    from mamba.services.schedules import SchedulePorts, ScheduleRepository, ScheduleTrigger
    from mamba.services.server_control import Ports as ServerControlPorts
    from mamba.services.server_lifecycle import Lifecycle
    from mamba.services.servers import ServerPorts
    from mamba.services.service_accounts import Ports as ServiceAccountPorts
    from mamba.services.service_accounts import ServiceAccountRepository
    from mamba.services.task_waits import WaitPorts
    from mamba.services.tenant_export import ExportStore, TenantRecords
    from mamba.services.two_factor import TwoFactorStore
    from mamba.services.webhooks import WebhookPorts, WebhookRepository, WebhookSender


# --- the override facility -------------------------------------------------------------------


class Overrides(TypedDict, total=False):
    """What a test may replace, by builder name. A builder without parameters is replaced by
    the value it would return; one with parameters (``node_agent``, ``agent_for``) by a
    function with the same parameters."""

    settings: Settings
    workflows: Workflows
    health_probes: HealthProbes
    mailer: Mailer
    audit_log: AuditLog
    api_key_repository: ApiKeyRepository
    ptero_ids: PteroIds
    ptero_records: PteroRecords
    service_account_repository: ServiceAccountRepository
    identity_repository: IdentityRepository
    operation_repository: OperationRepository
    node_repository: NodeRepository
    allocation_repository: AllocationRepository
    blueprint_repository: BlueprintRepository
    server_repository: ServerRepository
    fleet_reader: FleetReader
    backup_repository: BackupRepository
    backup_store: BackupStore
    backup_ports: BackupPorts
    billing_repository: BillingRepository
    billing_ports: BillingPorts
    stripe_gateway: PaymentGateway
    stripe_event_queue: EventQueue
    event_publisher: EventPublisher
    notification_store: NotificationStore
    notify_ports: NotifyPorts
    server_lifecycle: Lifecycle
    tenant_data_store: TenantDataStore
    server_control_ports: ServerControlPorts
    host_resolver: HostResolver
    node_agent: NodeAgentFactory
    agent_for: Callable[[Node], NodeAgent]
    rate_limiter: RateLimiter
    captcha: Captcha | None
    placement_store: PlacementStore
    user_repository: UserRepository
    tenancy_repository: DynamoTenantRepository
    admin_repository: AdminRepository
    two_factor_store: TwoFactorStore
    password_hasher: PasswordHashing
    node_health_store: NodeHealthStore
    tenant_usage_reader: UsageReader
    accounts: AccountPorts
    sftp_credentials: SftpCredentials
    free_quotas: Quotas
    effective_quotas: Callable[[str], Quotas]
    stripe_webhook_verifier: WebhookVerifier
    fleet_stats: FleetStats
    dead_letter_queue: DeadLetterQueue
    dead_letter_errors: DeadLetterErrors
    tenant_records: TenantRecords
    export_store: ExportStore
    metrics_store: MetricsStore
    server_events: EventStore
    metrics_ports: MetricsPorts
    schedule_repository: ScheduleRepository
    schedule_trigger: ScheduleTrigger
    schedule_ports: SchedulePorts
    webhook_repository: WebhookRepository
    webhook_sender: WebhookSender
    webhook_ports: WebhookPorts
    identity_providers: dict[str, IdentityProvider]
    oauth_ports: OAuthPorts


@dataclass
class _Entry:
    value: object
    deps: frozenset[str]


class _Scope:
    """One layer of overrides with its own cache. A cached value is inherited from the layer
    below only when nothing it was built from is overridden here, so no value built with a
    fake outlives the override, and no value built without one is used while it holds."""

    def __init__(self, overrides: dict[str, object], parent: _Scope | None) -> None:
        self.overrides: dict[str, object] = {**(parent.overrides if parent else {}), **overrides}
        self.cache: dict[tuple[str, tuple[object, ...]], _Entry] = {}
        if parent is not None:
            replaced = set(overrides)
            self.cache = {key: e for key, e in parent.cache.items() if not ({key[0], *e.deps} & replaced)}


_SCOPES: list[_Scope] = [_Scope({}, None)]
_BUILDING = threading.local()  # the dependency sets of the builders being built, per thread


def _frames() -> list[set[str]]:
    frames: list[set[str]] | None = getattr(_BUILDING, "frames", None)
    if frames is None:
        frames = _BUILDING.frames = []
    return frames


class Builder[**P, R]:
    """A builder of this module: consults the active overrides, then the cache (``cached``),
    and records which builders each value was built from."""

    def __init__(self, fn: Callable[P, R], *, cached: bool) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.cached = cached
        self.takes_parameters = fn.__code__.co_argcount + fn.__code__.co_kwonlyargcount > 0
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        frames = _frames()
        for frame in frames:
            frame.add(self.name)
        scope = _SCOPES[-1]
        if self.name in scope.overrides:
            replacement = scope.overrides[self.name]
            if self.takes_parameters:
                return cast(Callable[P, R], replacement)(*args, **kwargs)
            return cast(R, replacement)
        key = (self.name, (*args, *sorted(kwargs.items())))
        if self.cached and key in scope.cache:
            entry = scope.cache[key]
            for frame in frames:
                frame.update(entry.deps)
            return cast(R, entry.value)
        deps: set[str] = set()
        frames.append(deps)
        try:
            value = self.fn(*args, **kwargs)
        finally:
            frames.pop()
        for frame in frames:
            frame.update(deps)
        if self.cached:
            scope.cache[key] = _Entry(value, frozenset(deps))
        return value

    def cache_clear(self) -> None:
        for scope in _SCOPES:
            for key in [k for k in scope.cache if k[0] == self.name]:
                del scope.cache[key]


def cached[**P, R](fn: Callable[P, R]) -> Builder[P, R]:
    """Built once per container (per override scope)."""
    return Builder(fn, cached=True)


def built[**P, R](fn: Callable[P, R]) -> Builder[P, R]:
    """Built on every call, from cached parts."""
    return Builder(fn, cached=False)


@contextlib.contextmanager
def override(**fakes: Unpack[Overrides]) -> Iterator[None]:
    """Replace builders while the block runs (tests). Everything built from a replaced builder
    is rebuilt inside the block and forgotten after it; overrides nest."""
    unknown = set(fakes) - set(Overrides.__annotations__)
    if unknown:
        raise TypeError(f"bootstrap.override: no builder named {sorted(unknown)}")
    scope = _Scope(dict(fakes), _SCOPES[-1])
    _SCOPES.append(scope)
    try:
        yield
    finally:
        _SCOPES.remove(scope)


def reset(*, keep: tuple[str, ...] = ()) -> None:
    """Forget every cached adapter (tests that change the environment), except the builders named
    in ``keep`` (SnapStart's after-restore hook keeps the parsed settings)."""
    for scope in _SCOPES:
        for key in [k for k in scope.cache if k[0] not in keep]:
            del scope.cache[key]


# --- settings and clients ----------------------------------------------------------------------


@cached
def settings() -> Settings:
    loaded = get_settings()
    configure(loaded)
    return loaded


@cached
def dynamo_tables() -> None:
    """Point the pynamodb items at the configured table (pynamodb is imported only here)."""
    s = settings()
    from mamba.adapters.dynamo import items

    # Every item class shares the one DynamoDB client of mamba.adapters.aws_clients (boto_client's too).
    items.bind(s.table_main, s.region, s.aws_endpoint_url)


@cached
def boto_client(service: str) -> BaseClient:
    """One client per service and container (thread-safe), from the process's one botocore session
    (mamba.adapters.aws_clients): the DynamoDB client is the very one pynamodb's items use."""
    from mamba.adapters import aws_clients

    s = settings()
    return aws_clients.client(service, s.region, s.aws_endpoint_url)


@cached
def cursor_codec() -> CursorCodec:
    """Signs list cursors (mamba.adapters.dynamo.pagination) with a key derived from JWT_SECRET."""
    from mamba.adapters.dynamo.pagination import CursorCodec

    return CursorCodec(settings().jwt_secret)


@cached
def migration_ledger() -> MigrationLedger:
    """The migrations' ledger item (``META#MIGRATIONS/LEDGER``)."""
    dynamo_tables()
    from mamba.adapters.dynamo.migrations import DynamoMigrationLedger

    return DynamoMigrationLedger()


def stack_responder() -> Callable[[str, dict[str, object]], None]:
    """Answers CloudFormation's custom resource requests (the deploy's migrations)."""
    from mamba.adapters.cfn_response import send

    return send


# --- identity and accounts ---------------------------------------------------------------------


@cached
def identity_repository() -> IdentityRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.identity import DynamoIdentityRepository

    return DynamoIdentityRepository()


@cached
def api_key_repository() -> ApiKeyRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.api_keys import DynamoApiKeyRepository

    return DynamoApiKeyRepository()


@cached
def ptero_ids() -> PteroIds:
    """The integer ids of Pterodactyl's API (docs/pterodactyl-api.md)."""
    dynamo_tables()
    from mamba.adapters.dynamo.ptero_ids import DynamoPteroIds

    return DynamoPteroIds()


@built
def ptero_client_ports() -> PteroClientPorts:
    """What Pterodactyl's client API reads about servers (mamba.services.pterodactyl.client_servers)."""
    from mamba.services.pterodactyl.client_servers import ClientPorts

    return ClientPorts(
        servers=server_repository(),
        nodes=node_repository(),
        blueprints=blueprint_repository(),
        allocations=allocation_repository(),
        ids=ptero_ids(),
        memberships=tenancy_repository(),
        network=server_network_store(),
        free=placement_store(),
        users=user_repository(),
    )


@cached
def server_network_store() -> ServerNetworkStore:
    """A server's ports and image as Pterodactyl's client API changes them."""
    dynamo_tables()
    from mamba.adapters.dynamo.server_network import DynamoServerNetworkStore

    return DynamoServerNetworkStore()


@cached
def ptero_records() -> PteroRecords:
    """The Pterodactyl-only values of users and locations (docs/pterodactyl-api.md)."""
    dynamo_tables()
    from mamba.adapters.dynamo.ptero_records import DynamoPteroRecords

    return DynamoPteroRecords()


def ptero_user_ports() -> PteroUserPorts:
    """The ports of the application API's users (mamba.services.pterodactyl.users)."""
    from mamba.domain.clock import now_epoch
    from mamba.services.account_deletion import remove_account
    from mamba.services.pterodactyl.users import UserPorts

    def remove(user_id: str, actor_id: str) -> object:
        return remove_account(
            account_deletion_ports(), user_id, via="application_key", now=now_epoch(), actor_id=actor_id
        )

    return UserPorts(
        users=user_repository(),
        admin=admin_repository(),
        hasher=password_hasher(),
        ids=ptero_ids(),
        records=ptero_records(),
        remove=remove,
    )


def ptero_node_ports() -> PteroNodePorts:
    """The ports of the application API's nodes, locations and allocations."""
    from mamba.services.pterodactyl.nodes import NodePorts

    return NodePorts(
        nodes=node_repository(),
        allocations=allocation_repository(),
        loads=placement_store().node_loads,
        servers_on=server_repository().on_node,
        ids=ptero_ids(),
        records=ptero_records(),
        public_url=settings().public_url,
    )


def ptero_nest_ports() -> PteroNestPorts:
    """The ports of the application API's nests and eggs."""
    from mamba.services.pterodactyl.nests import NestPorts

    return NestPorts(blueprints=blueprint_repository(), ids=ptero_ids())


@cached
def service_account_repository() -> ServiceAccountRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.service_accounts import DynamoServiceAccountRepository

    return DynamoServiceAccountRepository(cursor_codec())


@built
def service_account_ports() -> ServiceAccountPorts:
    """What the service-account use cases take (mamba.services.service_accounts)."""
    from mamba.services.service_accounts import Ports

    return Ports(
        accounts=service_account_repository(),
        keys=api_key_repository(),
        tenancy=tenancy_repository(),
        events=events_or_none(),
    )


@built
def guard_ports() -> GuardPorts:
    """What the guard needs on every request (mamba.auth.guard.authorize, called by mamba.web)."""
    from mamba.auth.guard import GuardPorts

    return GuardPorts(jwt_secret=settings().jwt_secret, identity=identity_repository(), key_uses=api_key_repository())


@cached
def two_factor_store() -> TwoFactorStore:
    dynamo_tables()
    from mamba.adapters.dynamo.two_factor import DynamoTwoFactorStore

    return DynamoTwoFactorStore()


@cached
def passkey_ports() -> PasskeyPorts:
    """Passkeys (mamba.services.passkeys): the store, the panel as relying party, the limiter."""
    dynamo_tables()
    from mamba.adapters.dynamo.passkeys import DynamoPasskeyStore
    from mamba.auth.webauthn import RelyingParty
    from mamba.observability import logger
    from mamba.services.passkeys import PasskeyPorts

    return PasskeyPorts(
        store=DynamoPasskeyStore(),
        relying_party=RelyingParty.of(settings().public_url),
        limiter=rate_limiter(),
        users=user_repository(),
        mailer=mailer(),
        on_mail_failure=lambda subject, exc: logger.warning(
            "passkey mail not sent", extra={"subject": subject, "error": type(exc).__name__}
        ),
    )


@cached
def user_repository() -> UserRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.users import DynamoUserRepository

    return DynamoUserRepository()


@cached
def password_hasher() -> PasswordHashing:
    """argon2id with the cost stated in Settings (stored hashes with another cost are
    re-hashed at their next login)."""
    from mamba.auth.passwords import Argon2idPasswords, Argon2Params

    s = settings()
    return Argon2idPasswords(
        Argon2Params(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib, parallelism=s.argon2_parallelism)
    )


@cached
def rate_limiter() -> RateLimiter:
    dynamo_tables()
    from mamba.adapters.dynamo.ratelimit import DynamoRateLimiter

    return DynamoRateLimiter()


@cached
def captcha() -> Captcha | None:
    """The CAPTCHA verifier, or None when CAPTCHA_PROVIDER is ``disabled``."""
    s = settings()
    if s.captcha_provider == "disabled" or s.captcha_secret_key is None:
        return None
    from mamba.adapters.captcha import SiteverifyCaptcha

    return SiteverifyCaptcha(s.captcha_provider, s.captcha_secret_key, s.captcha_verify_url)


@cached
def account_policy() -> AccountPolicy:
    from mamba.domain.accounts import (
        EMAIL_CHANGE_USER,
        FORGOT_EMAIL,
        FORGOT_IP,
        LOGIN_ACCOUNT,
        LOGIN_IP,
        REGISTER_IP,
        VERIFY_IP,
        AccountPolicy,
    )
    from mamba.domain.ratelimit import Limit

    s = settings()
    login_window = s.rate_login_window_seconds
    return AccountPolicy(
        login_account=Limit(LOGIN_ACCOUNT.name, s.rate_login_account, login_window),
        login_ip=Limit(LOGIN_IP.name, s.rate_login_ip, login_window),
        register_ip=Limit(REGISTER_IP.name, s.rate_register_ip, REGISTER_IP.window),
        forgot_ip=Limit(FORGOT_IP.name, s.rate_forgot_ip, FORGOT_IP.window),
        forgot_email=Limit(FORGOT_EMAIL.name, s.rate_forgot_email, FORGOT_EMAIL.window),
        verify_ip=Limit(VERIFY_IP.name, s.rate_verify_ip, VERIFY_IP.window),
        email_change_user=Limit(EMAIL_CHANGE_USER.name, s.rate_email_change_account, EMAIL_CHANGE_USER.window),
        lockout_after=s.lockout_after,
        lockout_seconds=s.lockout_seconds,
        refresh_ttl=s.refresh_ttl_seconds,
    )


@built
def invitation_limits() -> InvitationLimits:
    from mamba.domain.ratelimit import Limit
    from mamba.domain.tenancy import InvitationLimits

    s, d = settings(), InvitationLimits()
    return InvitationLimits(
        account=Limit(d.account.name, s.rate_invite_account, d.account.window),
        tenant=Limit(d.tenant.name, s.rate_invite_tenant, d.tenant.window),
        email=Limit(d.email.name, s.rate_invite_email, d.email.window),
    )


@cached
def accounts() -> AccountPorts:
    """Every port of the account flows (mamba.services.accounts / sessions), wired for real."""
    import time

    from mamba.auth import tokens
    from mamba.observability import logger
    from mamba.services.accounts import AccountPorts

    dynamo_tables()
    from mamba.adapters.dynamo.one_time_tokens import DynamoOneTimeTokenStore
    from mamba.adapters.dynamo.sessions import DynamoSessionStore

    s = settings()

    def issue_access(user_id: str, issued_at: int, family_id: str | None = None) -> str:
        return tokens.issue_access(user_id, s.jwt_secret, now=issued_at, family_id=family_id)

    def second_factor(user_id: str, code: str | None) -> None:
        from mamba.services.two_factor import check_second_factor

        check_second_factor(user_id, code, two_factor_store())

    def passkey_factor(user_id: str, challenge_id: str, credential: dict[str, Any]) -> None:
        from mamba.services.passkeys import verify_assertion

        verify_assertion(passkey_ports(), challenge_id, credential, now=int(time.time()), user_id=user_id)

    def wait_until(epoch_second: int) -> None:
        while (left := epoch_second - time.time()) > 0:
            time.sleep(min(left, 0.05))

    def on_mail_failure(subject: str, exc: Exception) -> None:
        logger.warning("account mail not sent", extra={"subject": subject, "error": type(exc).__name__})

    return AccountPorts(
        users=user_repository(),
        hasher=password_hasher(),
        tokens=DynamoOneTimeTokenStore(),
        sessions=DynamoSessionStore(cursor_codec()),
        limiter=rate_limiter(),
        mailer=mailer(),
        issue_access=issue_access,
        public_url=s.public_url,
        captcha=captcha(),
        second_factor=second_factor,
        passkey_factor=passkey_factor,
        wait_until=wait_until,
        policy=account_policy(),
        on_mail_failure=on_mail_failure,
        api_keys=api_key_repository(),
    )


@cached
def identity_providers() -> dict[str, IdentityProvider]:
    """The sign-in providers this deployment offers (a client id and secret each, docs/oauth.md).
    Cached per container: each keeps its discovery document and JWKS between requests."""
    s = settings()
    clients = s.oauth_clients()
    if not clients:
        return {}
    from mamba.adapters import oauth_providers as op

    found: dict[str, IdentityProvider] = {}
    for provider, (client_id, secret) in clients.items():
        config = op.ClientConfig(provider, client_id, secret)
        if provider == "google":
            found[provider] = op.OidcProvider(config, s.oauth_google_discovery_url)
        elif provider == "microsoft":
            found[provider] = op.MicrosoftProvider(config, s.oauth_microsoft_discovery_url)
        elif provider == "github":
            found[provider] = op.GitHubProvider(config, s.oauth_github_url, s.oauth_github_api_url)
        elif provider == "discord":
            found[provider] = op.DiscordProvider(config, s.oauth_discord_url, s.oauth_discord_api_url)
    return found


@built
def oauth_ports() -> OAuthPorts:
    from mamba.services.oauth import OAuthPorts

    dynamo_tables()
    from mamba.adapters.dynamo.oauth import DynamoOAuthStore

    return OAuthPorts(accounts=accounts(), store=DynamoOAuthStore(), providers=identity_providers())


@cached
def sftp_credentials() -> SftpCredentials:
    """Panel logins (password or API key) for the nodes' SFTP servers, with the rules of the
    HTTP sign-in (windows, lockout) and of the guard."""
    import time

    from mamba.auth import sftp
    from mamba.auth.api_keys import recorder
    from mamba.domain import clock
    from mamba.services import sessions

    def password_sign_in(email: str, password: str, source_ip: str, refuse: Callable[[User], bool]) -> User:
        return sessions.check_password(
            accounts(), email, password, source_ip=source_ip, now=clock.now_epoch(), refuse=refuse
        )

    return sftp.PanelSftpCredentials(
        accounts=user_repository(),
        memberships=sftp.IdentityMemberships(identity_repository(), time.time),
        password_sign_in=password_sign_in,
        api_keys=sftp.IdentityApiKeys(identity_repository(), recorder(api_key_repository())),
        admin_access=settings().sftp_admin_access,
    )


# --- tenants, audit, mail ------------------------------------------------------------------


@cached
def tenancy_repository() -> DynamoTenantRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository

    return DynamoTenantRepository(cursor_codec())


@cached
def admin_repository() -> AdminRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.admin import DynamoAdminRepository

    return DynamoAdminRepository(cursor_codec())


@cached
def audit_log() -> AuditLog:
    dynamo_tables()
    from mamba.adapters.dynamo.audit import DynamoAuditLog

    return DynamoAuditLog()


@cached
def mailer() -> Mailer:
    from mamba.adapters.ses import SesMailer

    return SesMailer(boto_client("sesv2"), settings().mail_from)


# --- operations and workflows ----------------------------------------------------------------


@cached
def operation_repository() -> OperationRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.operations import DynamoOperationRepository

    return DynamoOperationRepository(cursor_codec())


@cached
def workflows() -> Workflows:
    from mamba.adapters.sfn import SfnWorkflows

    return SfnWorkflows(boto_client("stepfunctions"), settings().state_machine_arn)


@cached
def task_waits() -> WaitPorts:
    """Workflows waiting on a node's callback: the parked task tokens and SFN to resume them."""
    dynamo_tables()
    import time

    from mamba.adapters.dynamo.task_waits import DynamoTaskTokenStore
    from mamba.adapters.sfn import SfnWorkflows
    from mamba.services.task_waits import WaitPorts

    return WaitPorts(
        tokens=DynamoTaskTokenStore(),
        callbacks=SfnWorkflows(boto_client("stepfunctions"), settings().state_machine_arn),
        epoch=time.time,
    )


@cached
def health_probes() -> HealthProbes:
    from mamba.adapters.health import AwsHealthProbes

    s = settings()
    return AwsHealthProbes(
        dynamodb=boto_client("dynamodb"),
        s3=boto_client("s3"),
        sfn=boto_client("stepfunctions"),
        table=s.table_main,
        bucket=s.backup_bucket,
        state_machine_arn=s.state_machine_arn("check_platform"),
    )


# --- nodes and Wings ---------------------------------------------------------------------------


@cached
def token_cipher() -> TokenCipher:
    """KMS encryption of node tokens."""
    from mamba.adapters.kms import KmsTokenCipher

    return KmsTokenCipher(boto_client("kms"), settings().kms_key_id)


@cached
def node_repository() -> NodeRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.nodes import DynamoNodeRepository

    return DynamoNodeRepository(token_cipher(), cursor_codec())


@cached
def allocation_repository() -> AllocationRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.nodes import DynamoAllocationRepository

    return DynamoAllocationRepository(cursor_codec())


@cached
def blueprint_repository() -> BlueprintRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.blueprints import DynamoBlueprintRepository

    return DynamoBlueprintRepository(cursor_codec())


@cached
def wings_breaker() -> DynamoCircuitBreaker:
    """The per-node circuit breaker, its state shared by every container through DynamoDB."""
    dynamo_tables()
    from mamba.adapters.wings.breaker import DynamoCircuitBreaker

    return DynamoCircuitBreaker()


@built
def node_agent(node_id: str, url: str, token: str, *, verify_tls: bool = True) -> NodeAgent:
    """The Wings client of one node (not cached: a rotated token applies at once; the HTTP
    sessions underneath are pooled per container)."""
    from mamba.adapters.wings.client import NodeEndpoint, WingsHttpNodeAgent

    return WingsHttpNodeAgent(NodeEndpoint(node_id, url, token, verify_tls), breaker=wings_breaker())


@built
def agent_for(node: Node) -> NodeAgent:
    """The Wings client of ``node``, with its decrypted token: the one way services reach a node."""
    return node_agent(node.id, node.connection_address, node_repository().token(node))


@cached
def host_resolver() -> HostResolver:
    """The system resolver (``files/pull`` checks where a URL's host points)."""
    from mamba.adapters.dns import SocketHostResolver

    return SocketHostResolver()


@cached
def node_health_store() -> NodeHealthStore:
    dynamo_tables()
    from mamba.adapters.dynamo.node_health import DynamoNodeHealthStore

    return DynamoNodeHealthStore()


# --- servers -----------------------------------------------------------------------------------


@cached
def server_repository() -> ServerRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.servers import DynamoServerRepository

    return DynamoServerRepository(cursor_codec())


@cached
def fleet_reader() -> FleetReader:
    """Servers across tenants for the platform admin (Queries on gsi1/gsi2/gsi3, never a Scan)."""
    dynamo_tables()
    from mamba.adapters.dynamo.fleet import DynamoFleetReader

    return DynamoFleetReader(cursor_codec())


@cached
def placement_store() -> PlacementStore:
    """Node loads, free allocations, tenant usage and plan quotas, and the create transaction."""
    dynamo_tables()
    from mamba.adapters.dynamo.placement import DynamoPlacementStore

    return DynamoPlacementStore()


@cached
def tenant_usage_reader() -> UsageReader:
    """The quota page's reads: one BatchGetItem and the server-count Query."""
    dynamo_tables()
    from mamba.adapters.dynamo.catalog import DynamoTenantUsageReader

    return DynamoTenantUsageReader(placement_store())


@built
def free_quotas() -> Quotas:
    """The free plan's defaults from Settings (FREE_PLAN_*)."""
    from mamba.domain.quotas import Quotas

    s = settings()
    return Quotas(
        servers=s.free_plan_servers,
        memory_mb=s.free_plan_memory_mb,
        disk_mb=s.free_plan_disk_mb,
        backup_bytes=s.free_plan_backup_bytes,
        backups_per_server=s.free_plan_backups_per_server,
        schedules_per_server=s.free_plan_schedules_per_server,
    )


@built
def effective_quotas(tenant_id: str) -> Quotas:
    """``mamba.services.quotas.effective_quotas`` with its sources: the tenant record, billing's
    stored free plan and Settings' free-plan defaults."""
    from mamba.services import quotas

    return quotas.effective_quotas(tenant_id, placement_store(), free_quotas(), billing_repository())


@built
def server_ports() -> ServerPorts:
    """The ports of mamba.services.servers: create a server, and retry a failed provisioning."""
    from mamba.domain.clock import iso, utcnow
    from mamba.domain.servers import ProvisionTiming
    from mamba.services.blueprints import validate_environment
    from mamba.services.servers import ServerPorts

    s = settings()
    return ServerPorts(
        servers=server_repository(),
        placement=placement_store(),
        blueprints=blueprint_repository(),
        operations=operation_repository(),
        workflows=workflows(),
        quotas=effective_quotas,
        validate_environment=validate_environment,
        now=lambda: iso(utcnow()),
        timing=ProvisionTiming(
            install_timeout_seconds=s.provision_install_timeout_seconds,
            start_timeout_seconds=s.provision_start_timeout_seconds,
            poll_seconds=s.provision_poll_seconds,
            watch_seconds=s.provision_watch_seconds,
        ),
        events=events_or_none(),
        ids=ptero_ids(),
    )


@built
def retry_preparers() -> dict[str, RetryPreparer]:
    """What an operation type needs before an admin's retry runs it again (see RETRYABLE)."""
    from mamba.services.servers import ProvisioningRetry

    return {"provision_server": ProvisioningRetry(server_ports())}


@built
def server_control_ports() -> ServerControlPorts:
    """The ports of mamba.services.server_control and server_files: repositories and Wings clients."""
    from mamba.services.server_control import Ports

    return Ports(
        servers=server_repository(),
        nodes=node_repository(),
        agent_for=agent_for,
        blueprints=blueprint_repository(),
        issuer=settings().public_url,
        resolver=host_resolver(),
        power_marks=server_events(),
    )


@cached
def server_lifecycle() -> Lifecycle:
    """The dependencies of mamba.services.server_lifecycle (delete, reinstall, build, suspend, reconcile)."""
    dynamo_tables()
    from mamba.adapters.dynamo.server_lifecycle import DynamoServerLifecycleStore, DynamoServerLocks
    from mamba.services.server_lifecycle import Lifecycle

    s = settings()
    return Lifecycle(
        servers=server_repository(),
        store=DynamoServerLifecycleStore(),
        locks=DynamoServerLocks(),
        nodes=node_repository(),
        allocations=allocation_repository(),
        agent_for=agent_for,
        operations=operation_repository(),
        workflows=workflows(),
        blueprints=blueprint_repository(),
        backups=backup_ports(),
        schedules=schedule_ports(),
        quotas=effective_quotas,
        tenant_holds=tenant_suspensions,
        reinstall_timeout_seconds=s.reinstall_timeout_seconds,
        waits=task_waits(),
        observed=_record_metrics,
        placement=placement_store(),
        events=events_or_none(),
    )


def _record_metrics(node_id: str, servers: list[Any], seen: dict[str, Any]) -> dict[str, int]:
    """The reconcile's observations into the metrics history (ports built per call, so a
    test's overrides hold)."""
    from mamba.services import metrics

    return metrics.record_node(metrics_ports(), node_id, servers, seen)


@built
def tenant_suspensions(tenant_id: str) -> frozenset[str]:
    """The tenant-level suspensions that hold now: ``tenant_admin`` (a platform admin) and
    ``billing`` (unpaid), read consistently (mamba.services.server_lifecycle.action_unsuspend)."""
    from mamba.domain.errors import NotFoundError

    try:
        info = admin_repository().get_tenant(tenant_id)
    except NotFoundError:
        return frozenset()
    holds = {"tenant_admin"} if info.status == "suspended" else set()
    if billing_repository().get_state(tenant_id).billing_state == "suspended":
        holds.add("billing")
    return frozenset(holds)


# --- backups -----------------------------------------------------------------------------------


@cached
def backup_repository() -> BackupRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.backups import DynamoBackupRepository

    return DynamoBackupRepository()


@cached
def tenant_records() -> TenantRecords:
    """Every record of a tenant, for its export (three Queries, no Scan)."""
    dynamo_tables()
    from mamba.adapters.dynamo.tenant_export import DynamoTenantRecords

    return DynamoTenantRecords()


def _s3_client(read_timeout: int) -> BaseClient:
    """An S3 client for presigned URLs: SigV4 (X-Amz-Expires), and path-style against a local
    endpoint (moto), whose host name has no bucket subdomains."""
    from mamba.adapters import aws_clients

    s = settings()
    addressing = {"addressing_style": "path"} if s.aws_endpoint_url else {}
    return aws_clients.client(
        "s3", s.region, s.aws_endpoint_url, read_timeout=read_timeout, signature_version="s3v4", s3=addressing
    )


@cached
def export_store() -> ExportStore:
    """The export bucket (tenant archives the panel writes, downloaded by presigned GET)."""
    from mamba.adapters.s3_exports import S3ExportStore

    return S3ExportStore(_s3_client(read_timeout=30), settings().export_bucket)


def _backup_settings_facts(tenant_id: str) -> BackupSettingsFacts:
    """``GET .../backup-settings`` in one BatchGetItem (quotas, storage counter, rotation choice)."""
    dynamo_tables()
    from mamba.adapters.dynamo.catalog import DynamoTenantUsageReader

    return DynamoTenantUsageReader(placement_store()).backup_settings(tenant_id, free_quotas())


@cached
def backup_store() -> BackupStore:
    """The backup bucket (presigned URLs and metadata calls; never an object body)."""
    from mamba.adapters.s3_backups import S3BackupStore

    return S3BackupStore(_s3_client(read_timeout=10), settings().backup_bucket)


@built
def backup_ports() -> BackupPorts:
    """Every port of mamba.services.backups, wired for real."""
    from mamba.domain.backups import BackupPolicy
    from mamba.domain.clock import iso, utcnow
    from mamba.services.backups import BackupPorts

    s = settings()
    return BackupPorts(
        backups=backup_repository(),
        servers=server_repository(),
        nodes=node_repository(),
        store=backup_store(),
        operations=operation_repository(),
        workflows=workflows(),
        agent_for=agent_for,
        quotas=effective_quotas,
        audit=audit_log(),
        clock=lambda: iso(utcnow()),
        policy=BackupPolicy(s.backup_part_size_bytes, s.backup_timeout_seconds),
        waits=task_waits(),
        events=events_or_none(),
        settings_facts=_backup_settings_facts,
    )


# --- schedules (issue 14; docs/schedules.md) ------------------------------------------------------


@cached
def schedule_repository() -> ScheduleRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.schedules import DynamoScheduleRepository

    return DynamoScheduleRepository()


@cached
def schedule_trigger() -> ScheduleTrigger:
    """EventBridge Scheduler (moto locally, where the launcher's timer fires what it holds)."""
    s = settings()
    if not (s.schedule_group and s.schedule_target_arn and s.scheduler_role_arn):
        from mamba.domain.errors import DependencyUnavailableError

        raise DependencyUnavailableError("Schedules are not configured on this panel (SCHEDULE_GROUP).")
    from mamba.adapters.eventbridge_scheduler import EventBridgeScheduleTrigger

    return EventBridgeScheduleTrigger(
        boto_client("scheduler"), s.schedule_group, s.schedule_target_arn, s.scheduler_role_arn
    )


class _LazyTrigger:
    """The trigger built on first use, so reading schedules works without the scheduler's settings."""

    def put(self, schedule: Any) -> None:
        schedule_trigger().put(schedule)

    def delete(self, schedule_id: str) -> None:
        schedule_trigger().delete(schedule_id)


class _LazyEvents:
    """The events publisher built on first use (only a failed task publishes)."""

    def publish(self, events: Any) -> None:
        event_publisher().publish(events)


@built
def schedule_ports() -> SchedulePorts:
    """Every port of mamba.services.schedules, wired for real; the task runner goes through the
    API's own power, console and backup use cases."""
    from mamba.domain.clock import utcnow
    from mamba.services.schedules import SchedulePorts, ServiceTaskRunner

    return SchedulePorts(
        schedules=schedule_repository(),
        trigger=_LazyTrigger(),
        servers=server_repository(),
        workflows=workflows(),
        quotas=effective_quotas,
        events=_LazyEvents(),
        now=utcnow,
        runner=ServiceTaskRunner(control=server_control_ports(), backups=backup_ports()),
        backup_poll_seconds=settings().schedule_backup_poll_seconds,
    )


# --- billing -----------------------------------------------------------------------------------


@cached
def billing_repository() -> BillingRepository:
    dynamo_tables()
    from mamba.adapters.dynamo.billing import DynamoBillingRepository

    return DynamoBillingRepository(cursor_codec())


@cached
def stripe_gateway() -> PaymentGateway:
    """The Stripe client (imports ``stripe``: billing modules only). Raises
    BillingDisabledError when no key is configured."""
    from mamba.domain.errors import BillingDisabledError

    s = settings()
    if not s.stripe_secret_key:
        raise BillingDisabledError("Billing is not enabled on this panel.")
    from mamba.adapters.stripe_client import StripeGateway

    return StripeGateway(s.stripe_secret_key, s.stripe_api_base)


@built
def tenant_owner_emails(tenant_id: str) -> list[str]:
    """Where billing mail goes: the tenant's owners."""
    from mamba.domain.errors import NotFoundError
    from mamba.domain.pages import PageRequest

    emails: list[str] = []
    page = tenancy_repository().list_members(tenant_id, PageRequest(limit=100))
    for member in page.items:
        if member.role == "owner":
            try:
                emails.append(user_repository().get(member.user_id).email)
            except NotFoundError:  # a vanished owner gets no mail
                pass
    return emails


@built
def stripe_event_queue() -> EventQueue:
    """Sends a verified event's raw body to the Stripe events queue."""
    s = settings()
    if not s.stripe_events_queue_url:
        from mamba.domain.errors import DependencyUnavailableError

        raise DependencyUnavailableError("The Stripe events queue is not configured.")
    sqs = boto_client("sqs")
    url = s.stripe_events_queue_url

    def enqueue(body: str) -> None:
        # The webhook request's id travels with the event, so the consumer logs under it
        # (functions/queues/stripe_events.py, docs/observability.md).
        correlation = current_request_id()
        attributes = {"correlation_id": {"DataType": "String", "StringValue": correlation}} if correlation else {}
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)

    return enqueue


@built
def event_publisher() -> EventPublisher:
    """Queues notification events (docs/notifications.md) for the events consumer."""
    s = settings()
    if not s.events_queue_url:
        from mamba.domain.errors import DependencyUnavailableError

        raise DependencyUnavailableError("The events queue is not configured.")
    from mamba.adapters.sqs_events import SqsEventPublisher

    return SqsEventPublisher(boto_client("sqs"), s.events_queue_url, current_request_id)


class _PublishOnUse:
    """The events publisher of the services' port bundles: the SQS client is made on the first
    publish, not when a bundle is built (most requests publish nothing; docs/performance.md)."""

    def publish(self, events: Any) -> None:
        event_publisher().publish(events)


@built
def events_or_none() -> EventPublisher | None:
    """The events publisher for the services' port bundles; None only where no events queue is
    configured (a bare test environment): the deployed stack and the local stack always have one."""
    if not settings().events_queue_url:
        return None
    return _PublishOnUse()


@cached
def notification_store() -> NotificationStore:
    dynamo_tables()
    from mamba.adapters.dynamo.notifications import DynamoNotificationStore

    return DynamoNotificationStore(cursor_codec())


@built
def notify_ports() -> NotifyPorts:
    """The events consumer's in-app and email delivery (mamba.services.notifications)."""
    from mamba.domain.clock import iso, now_epoch, utcnow
    from mamba.services.notifications import NotifyPorts

    return NotifyPorts(
        store=notification_store(),
        mailer=mailer(),
        now=now_epoch,
        iso_now=lambda: iso(utcnow()),
        public_url=settings().public_url,
    )


@cached
def webhook_repository() -> WebhookRepository:
    """Tenants' outgoing webhooks, their due deliveries and attempt log (docs/webhooks.md)."""
    dynamo_tables()
    from mamba.adapters.dynamo.webhooks import DynamoWebhookRepository

    return DynamoWebhookRepository(token_cipher, cursor_codec())


@cached
def webhook_sender() -> WebhookSender:
    from mamba.adapters.webhook_http import HttpWebhookSender

    return HttpWebhookSender()


@built
def tenant_owner_contacts(tenant_id: str) -> list[tuple[str, str]]:
    """The tenant's owners as (email, mail language): the language each chose for notification
    mail (docs/notifications.md), English by default."""
    from mamba.domain.errors import NotFoundError
    from mamba.domain.pages import PageRequest

    found: list[tuple[str, str]] = []
    page = tenancy_repository().list_members(tenant_id, PageRequest(limit=100))
    for member in page.items:
        if member.role != "owner":
            continue
        try:
            email = user_repository().get(member.user_id).email
        except NotFoundError:  # a vanished owner gets no mail
            continue
        found.append((email, notification_store().preferences(member.user_id).language))
    return found


@built
def webhook_ports() -> WebhookPorts:
    """What the webhook use cases need; ``fan_out`` (the events consumer) and the delivery
    schedule take it too. Local mode allows http URLs and a receiver on loopback."""
    from mamba.services.webhooks import WebhookPorts

    s = settings()
    return WebhookPorts(
        repo=webhook_repository(),
        sender=webhook_sender(),
        resolver=host_resolver(),
        mailer=mailer,
        owners=tenant_owner_contacts,
        public_url=s.public_url,
        allow_http=s.env == "local",
        allow_loopback=s.env == "local",
        limiter=rate_limiter(),
    )


@built
def stripe_webhook_verifier() -> WebhookVerifier:
    """The Stripe webhook signature check (imports ``stripe``: the webhook route only)."""
    from mamba.adapters.stripe_client import signature_valid

    return signature_valid


@built
def billing_ports() -> BillingPorts:
    """Every port of the billing services, wired for real (cheap: the parts are cached)."""
    from mamba.services.billing import BillingPorts

    s = settings()
    return BillingPorts(
        repo=billing_repository(),
        stripe=stripe_gateway,
        public_url=s.public_url,
        return_url=s.billing_return_url,
        workflows=workflows(),
        operations=operation_repository(),
        mailer=mailer(),
        recipients=tenant_owner_emails,
        retention_days=s.billing_retention_days,
        delete_tenant_data=delete_tenant_data,
        livemode=s.stripe_livemode,
        free_quotas=free_quotas(),
        events=events_or_none(),
    )


# --- a tenant's data deletion (issue 12: the retention job, account deletion) ------------------


@cached
def tenant_data_store() -> TenantDataStore:
    dynamo_tables()
    from mamba.adapters.dynamo.retention import DynamoTenantData

    return DynamoTenantData(boto_client("dynamodb"))


@built
def retention_ports() -> RetentionPorts:
    from mamba.domain.pages import PageRequest
    from mamba.services.retention import RetentionPorts

    def members(tenant_id: str) -> list[str]:
        found: list[str] = []
        cursor: str | None = None
        while True:
            page = tenancy_repository().list_members(tenant_id, PageRequest(limit=100, cursor=cursor))
            found.extend(member.user_id for member in page.items)
            cursor = page.next_cursor
            if not cursor:
                return found

    return RetentionPorts(
        lifecycle=server_lifecycle(),
        data=tenant_data_store(),
        audit=audit_log(),
        keys=api_key_repository(),
        members=members,
        exports=lambda tenant_id: export_store().delete_tenant(tenant_id),
    )


@built
def delete_tenant_data(tenant_id: str) -> bool:
    """One step of a canceled tenant's data deletion (billing's retention job); True when done."""
    from mamba.services.retention import delete_tenant_data as step

    return step(retention_ports(), tenant_id).done


@built
def account_deletion_ports() -> AccountDeletionPorts:
    """The ports of ``DELETE /v1/me`` (mamba.services.account_deletion)."""
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.domain.pages import PageRequest
    from mamba.services import oauth as oauth_service
    from mamba.services.account_deletion import AccountDeletionPorts
    from mamba.services.retention import delete_tenant_data as step

    def servers_of(tenant_id: str) -> int:
        return len(server_repository().page_of_tenant(tenant_id, PageRequest(limit=1)).items)

    def live_subscription(tenant_id: str) -> bool:
        # Any subscription Stripe may still invoice (unpaid and paused ones too): only none,
        # canceled and an abandoned first payment leave nothing to pay for.
        return billing_repository().get_state(tenant_id).status not in ("none", "canceled", "incomplete_expired")

    def delete_data(tenant_id: str, actor_id: str) -> bool:
        return step(retention_ports(), tenant_id, actor_id=actor_id).done

    return AccountDeletionPorts(
        accounts=accounts(),
        tenancy=tenancy_repository(),
        remover=DynamoUserRepository(),
        servers_of=servers_of,
        live_subscription=live_subscription,
        delete_tenant_data=delete_data,
        audit=audit_log(),
        passkeys=passkey_ports().store,
        forget_notifications=notification_store().forget,
        forget_identities=lambda user_id: oauth_service.forget_identities(oauth_ports().store, user_id),
    )


# --- fleet overview and dead letters (issue 12) ------------------------------------------------


@cached
def fleet_stats() -> FleetStats:
    dynamo_tables()
    from mamba.adapters.dynamo.overview import DynamoFleetStats

    return DynamoFleetStats(boto_client("dynamodb"))


@cached
def dead_letter_queue() -> DeadLetterQueue:
    """The Stripe events dead-letter queue (both queue URLs are set by infra and local/)."""
    s = settings()
    if not (s.stripe_events_queue_url and s.stripe_events_dlq_url):
        from mamba.domain.errors import DependencyUnavailableError

        raise DependencyUnavailableError("The Stripe events dead-letter queue is not configured.")
    from mamba.adapters.sqs_dead_letters import SqsDeadLetterQueue

    return SqsDeadLetterQueue(boto_client("sqs"), s.stripe_events_dlq_url, s.stripe_events_queue_url)


@cached
def dead_letter_errors() -> DeadLetterErrors:
    dynamo_tables()
    from mamba.adapters.dynamo.overview import DynamoDeadLetterErrors

    return DynamoDeadLetterErrors(boto_client("dynamodb"))


# --- metrics history and server events (issue 13) ---------------------------------------------


@cached
def metrics_store() -> MetricsStore:
    """The metrics table (node minutes, hour rollups): plain DynamoDB calls, no pynamodb model."""
    from mamba.adapters.dynamo.metrics import DynamoMetricsStore

    return DynamoMetricsStore(boto_client("dynamodb"), settings().table_metrics)


@cached
def server_events() -> EventStore:
    """A server's event history and last power request, under the server in the main table."""
    from mamba.adapters.dynamo.metrics import DynamoServerEvents

    return DynamoServerEvents(boto_client("dynamodb"), settings().table_main, cursor_codec())


@built
def metrics_ports() -> MetricsPorts:
    import time
    import uuid

    from mamba.adapters.dynamo import keys
    from mamba.services.metrics import MetricsPorts

    return MetricsPorts(
        store=metrics_store(),
        events=server_events(),
        servers=server_repository(),
        nodes=node_repository(),
        clock=lambda: int(time.time()),
        # Time first (fixed-width hex nanoseconds): the events of one run sort in the order raised.
        new_id=lambda: f"ev_{time.time_ns():016x}{uuid.uuid4().hex[:8]}",
        server_partition=keys.metrics_server,
        node_partition=keys.metrics_node,
        publisher=events_or_none(),
    )
