"""Composition root: builds the real adapters on first use, cached per container.

Nothing here runs at import time; every builder is called by a door when it needs it.
"""

from __future__ import annotations

import functools
from typing import Any

from mamba.config import Settings, get_settings
from mamba.observability import configure


@functools.cache
def settings() -> Settings:
    loaded = get_settings()
    configure(loaded)
    return loaded


@functools.cache
def dynamo_tables() -> None:
    """Point the pynamodb items at the configured table (pynamodb is imported only here)."""
    s = settings()
    from mamba.adapters.dynamo import items

    items.bind(s.table_main, s.region, s.aws_endpoint_url)


@functools.cache
def boto_client(service: str) -> Any:
    """One boto3 client per service and container (they are thread-safe)."""
    import boto3
    from botocore.config import Config

    s = settings()
    return boto3.client(
        service,
        region_name=s.region,
        endpoint_url=s.aws_endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10),
    )


@functools.cache
def identity_repository() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.identity import DynamoIdentityRepository

    return DynamoIdentityRepository()


@functools.cache
def operation_repository() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.operations import DynamoOperationRepository

    return DynamoOperationRepository()


@functools.cache
def workflows() -> Any:
    from mamba.adapters.sfn import SfnWorkflows

    return SfnWorkflows(boto_client("stepfunctions"), settings().state_machine_arn)


@functools.cache
def health_probes() -> Any:
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


@functools.cache
def mailer() -> Any:
    from mamba.adapters.ses import SesMailer

    return SesMailer(boto_client("sesv2"), settings().mail_from)


@functools.cache
def two_factor_store() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.two_factor import DynamoTwoFactorStore

    return DynamoTwoFactorStore()


@functools.cache
def api_key_repository() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.api_keys import DynamoApiKeyRepository

    return DynamoApiKeyRepository()


@functools.cache
def audit_log() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.audit import DynamoAuditLog

    return DynamoAuditLog()


@functools.cache
def token_cipher() -> Any:
    """KMS encryption of node tokens."""
    from mamba.adapters.kms import KmsTokenCipher

    return KmsTokenCipher(boto_client("kms"), settings().kms_key_id)


@functools.cache
def node_repository() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.nodes import DynamoNodeRepository

    return DynamoNodeRepository(token_cipher(), cursor_codec())


@functools.cache
def allocation_repository() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.nodes import DynamoAllocationRepository

    return DynamoAllocationRepository(cursor_codec())


@functools.cache
def blueprint_repository() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.blueprints import DynamoBlueprintRepository

    return DynamoBlueprintRepository(cursor_codec())


@functools.cache
def wings_breaker() -> Any:
    """The per-node circuit breaker, its state shared by every container through DynamoDB."""
    dynamo_tables()
    from mamba.adapters.wings.breaker import DynamoCircuitBreaker

    return DynamoCircuitBreaker()


def node_agent(node_id: str, url: str, token: str, *, verify_tls: bool = True) -> Any:
    """The Wings client of one node (not cached: a rotated token applies at once; the HTTP
    sessions underneath are pooled per container)."""
    from mamba.adapters.wings.client import NodeEndpoint, WingsHttpNodeAgent

    return WingsHttpNodeAgent(NodeEndpoint(node_id, url, token, verify_tls), breaker=wings_breaker())


@functools.cache
def host_resolver() -> Any:
    """The system resolver (``files/pull`` checks where a URL's host points)."""
    from mamba.adapters.dns import SocketHostResolver

    return SocketHostResolver()


def agent_for(node: Any) -> Any:
    """The Wings client of ``node`` (a ``mamba.domain.nodes.Node``), with its decrypted token:
    the one way services reach a node."""
    return node_agent(node.id, node.connection_address, node_repository().token(node))


@functools.cache
def server_repository() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.servers import DynamoServerRepository

    return DynamoServerRepository(cursor_codec())


@functools.cache
def server_lifecycle() -> Any:
    """The dependencies of mamba.services.server_lifecycle (delete, reinstall, build, suspend, reconcile)."""
    dynamo_tables()
    from mamba.adapters.dynamo.server_lifecycle import DynamoServerLifecycleStore, DynamoServerLocks
    from mamba.services.quotas import effective_quotas
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
        quotas=effective_quotas,
        tenant_holds=tenant_suspensions,
        reinstall_poll_seconds=s.reinstall_poll_seconds,
        reinstall_max_polls=s.reinstall_max_polls,
    )


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


@functools.cache
def backup_repository() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.backups import DynamoBackupRepository

    return DynamoBackupRepository()


@functools.cache
def backup_store() -> Any:
    """The backup bucket (presigned URLs and metadata calls; never an object body)."""
    import boto3
    from botocore.config import Config

    from mamba.adapters.s3_backups import S3BackupStore

    s = settings()
    # SigV4 presigned URLs (X-Amz-Expires); path-style against a local endpoint (moto), whose
    # host name has no bucket subdomains.
    addressing = {"addressing_style": "path"} if s.aws_endpoint_url else {}
    client = boto3.client(
        "s3",
        region_name=s.region,
        endpoint_url=s.aws_endpoint_url,
        config=Config(
            signature_version="s3v4",
            s3=addressing,
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=3,
            read_timeout=10,
        ),
    )
    return S3BackupStore(client, s.backup_bucket)


def backup_ports() -> Any:
    """Every port of mamba.services.backups, wired for real."""
    from mamba.domain.backups import BackupPolicy
    from mamba.domain.clock import iso, utcnow
    from mamba.services.backups import BackupPorts
    from mamba.services.quotas import effective_quotas

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
        policy=BackupPolicy(s.backup_part_size_bytes, s.backup_poll_seconds, s.backup_timeout_seconds),
    )


@functools.cache
def node_health_store() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.node_health import DynamoNodeHealthStore

    return DynamoNodeHealthStore()


@functools.cache
def sftp_credentials() -> Any:
    """Panel logins (password or API key) for the nodes' SFTP servers, with the rules of the
    HTTP sign-in (windows, lockout) and of the guard."""
    import time

    dynamo_tables()
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.auth import sftp
    from mamba.domain import clock
    from mamba.services import sessions

    def password_sign_in(email: str, password: str, source_ip: str, refuse: Any) -> Any:
        return sessions.check_password(
            accounts(), email, password, source_ip=source_ip, now=clock.now_epoch(), refuse=refuse
        )

    return sftp.PanelSftpCredentials(
        accounts=DynamoUserRepository(),
        memberships=sftp.IdentityMemberships(identity_repository(), time.time),
        password_sign_in=password_sign_in,
        api_keys=sftp.IdentityApiKeys(identity_repository()),
        admin_access=settings().sftp_admin_access,
    )


@functools.cache
def password_hasher() -> Any:
    """argon2id with the cost stated in Settings (stored hashes with another cost are
    re-hashed at their next login)."""
    from mamba.auth.passwords import Argon2idPasswords, Argon2Params

    s = settings()
    return Argon2idPasswords(
        Argon2Params(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib, parallelism=s.argon2_parallelism)
    )


@functools.cache
def rate_limiter() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.ratelimit import DynamoRateLimiter

    return DynamoRateLimiter()


@functools.cache
def captcha() -> Any:
    """The CAPTCHA verifier, or None when CAPTCHA_PROVIDER is ``disabled``."""
    s = settings()
    if s.captcha_provider == "disabled" or s.captcha_secret_key is None:
        return None
    from mamba.adapters.captcha import SiteverifyCaptcha

    return SiteverifyCaptcha(s.captcha_provider, s.captcha_secret_key, s.captcha_verify_url)


@functools.cache
def account_policy() -> Any:
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


def invitation_limits() -> Any:
    from mamba.domain.ratelimit import Limit
    from mamba.domain.tenancy import InvitationLimits

    s, d = settings(), InvitationLimits()
    return InvitationLimits(
        account=Limit(d.account.name, s.rate_invite_account, d.account.window),
        tenant=Limit(d.tenant.name, s.rate_invite_tenant, d.tenant.window),
        email=Limit(d.email.name, s.rate_invite_email, d.email.window),
    )


@functools.cache
def accounts() -> Any:
    """Every port of the account flows (mamba.services.accounts / sessions), wired for real."""
    import time

    from mamba.auth import tokens
    from mamba.observability import logger
    from mamba.services.accounts import AccountPorts

    dynamo_tables()
    from mamba.adapters.dynamo.one_time_tokens import DynamoOneTimeTokenStore
    from mamba.adapters.dynamo.sessions import DynamoSessionStore
    from mamba.adapters.dynamo.users import DynamoUserRepository

    s = settings()

    def issue_access(user_id: str, issued_at: int, family_id: str | None = None) -> str:
        return tokens.issue_access(user_id, s.jwt_secret, now=issued_at, family_id=family_id)

    def second_factor(user_id: str, code: str | None) -> None:
        from mamba.services.two_factor import check_second_factor

        check_second_factor(user_id, code, two_factor_store())

    def wait_until(epoch_second: int) -> None:
        while (left := epoch_second - time.time()) > 0:
            time.sleep(min(left, 0.05))

    def on_mail_failure(subject: str, exc: Exception) -> None:
        logger.warning("account mail not sent", extra={"subject": subject, "error": type(exc).__name__})

    return AccountPorts(
        users=DynamoUserRepository(),
        hasher=password_hasher(),
        tokens=DynamoOneTimeTokenStore(),
        sessions=DynamoSessionStore(cursor_codec()),
        limiter=rate_limiter(),
        mailer=mailer(),
        issue_access=issue_access,
        public_url=s.public_url,
        captcha=captcha(),
        second_factor=second_factor,
        wait_until=wait_until,
        policy=account_policy(),
        on_mail_failure=on_mail_failure,
        api_keys=api_key_repository(),
    )


@functools.cache
def cursor_codec() -> Any:
    """Signs list cursors (mamba.adapters.dynamo.pagination) with a key derived from JWT_SECRET."""
    from mamba.adapters.dynamo.pagination import CursorCodec

    return CursorCodec(settings().jwt_secret)


@functools.cache
def tenancy_repository() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository

    return DynamoTenantRepository(cursor_codec())


@functools.cache
def admin_repository() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.admin import DynamoAdminRepository

    return DynamoAdminRepository(cursor_codec())


@functools.cache
def user_repository() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.users import DynamoUserRepository

    return DynamoUserRepository()


@functools.cache
def billing_repository() -> Any:
    dynamo_tables()
    from mamba.adapters.dynamo.billing import DynamoBillingRepository

    return DynamoBillingRepository(cursor_codec())


@functools.cache
def stripe_gateway() -> Any:
    """The Stripe client (imports ``stripe``: billing modules only). Raises
    BillingDisabledError when no key is configured."""
    from mamba.domain.errors import BillingDisabledError

    s = settings()
    if not s.stripe_secret_key:
        raise BillingDisabledError("Billing is not enabled on this panel.")
    from mamba.adapters.stripe_client import StripeGateway

    return StripeGateway(s.stripe_secret_key, s.stripe_api_base)


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


def stripe_event_queue() -> Any:
    """Sends a verified event's raw body to the Stripe events queue."""
    s = settings()
    if not s.stripe_events_queue_url:
        from mamba.domain.errors import DependencyUnavailableError

        raise DependencyUnavailableError("The Stripe events queue is not configured.")
    sqs = boto_client("sqs")
    url = s.stripe_events_queue_url

    def enqueue(body: str) -> None:
        sqs.send_message(QueueUrl=url, MessageBody=body)

    return enqueue


def billing_ports() -> Any:
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
        livemode=s.stripe_livemode,
    )


def reset() -> None:
    """Forget every cached adapter (tests that change the environment). Every builder in
    this module is a ``functools.cache`` function, so new builders are reset too."""
    for value in list(globals().values()):
        if callable(value) and hasattr(value, "cache_clear"):
            value.cache_clear()


@functools.cache
def tenant_usage_reader() -> Any:
    """The quota page's reads: one BatchGetItem and the server-count Query."""
    dynamo_tables()
    from mamba.adapters.dynamo.catalog import DynamoTenantUsageReader

    return DynamoTenantUsageReader(placement_store())


@functools.cache
def placement_store() -> Any:
    """Node loads, free allocations, tenant usage and plan quotas, and the create transaction."""
    dynamo_tables()
    from mamba.adapters.dynamo.placement import DynamoPlacementStore

    return DynamoPlacementStore()
