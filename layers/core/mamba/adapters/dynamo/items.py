"""pynamodb items of the main table (single-table design; see docs/data-model.md).

Table names come from Settings through ``bind()``, which the composition root calls
before first use, so importing this module needs no configuration.
"""

from __future__ import annotations

import threading

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection.table import TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from mamba.adapters import aws_clients
from mamba.adapters.dynamo.tables import MAIN

_CONNECTIONS: dict[tuple[str, str | None, str | None], TableConnection] = {}
_CONNECTIONS_LOCK = threading.Lock()


class SharedClientModel(Model):
    """A pynamodb model whose classes share one connection per table, on the process's one
    DynamoDB client (``mamba.adapters.aws_clients``).

    pynamodb gives every model class a connection of its own, each with its own botocore session
    and client: the DynamoDB model was loaded once per item class a request touched, and once more
    for boto3 (docs/performance.md). Every class of a table has the same key schema and indexes
    (they are declared on the table's base class), so one ``TableConnection`` serves them all.
    Base a model of another table on this class too.
    """

    @classmethod
    def _get_connection(cls) -> TableConnection:
        key = (cls.Meta.table_name, cls.Meta.region, cls.Meta.host)
        found = _CONNECTIONS.get(key)
        if found is not None:
            return found
        with _CONNECTIONS_LOCK:
            found = _CONNECTIONS.get(key)
            if found is None:
                found = super()._get_connection()
                # pynamodb makes a client on first use only, so none is made here: it gets ours.
                found.connection._client = aws_clients.client("dynamodb", cls.Meta.region, cls.Meta.host)
                _CONNECTIONS[key] = found
            return found


class Gsi1(GlobalSecondaryIndex["MainItem"]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex["MainItem"]):
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Gsi3(GlobalSecondaryIndex["MainItem"]):
    class Meta:
        index_name = "gsi3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class MainItem(SharedClientModel):
    class Meta:
        table_name = MAIN.default_name
        region = "us-east-1"
        host: str | None = None

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    ttl = NumberAttribute(null=True)
    kind = UnicodeAttribute(null=True)

    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi3 = Gsi3()


class UserItem(MainItem):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute(null=True)
    is_admin = BooleanAttribute(default=False)
    email_verified = BooleanAttribute(default=False)
    status = UnicodeAttribute(default="active")
    created_at = UnicodeAttribute()
    # Access tokens issued before this epoch second are refused (password reset, "log out
    # everywhere", suspension): the guard reads the user anyway, so revocation costs nothing.
    sessions_valid_after = NumberAttribute(null=True)
    # API keys created before this ISO time (microseconds) are refused: set by a password reset
    # or change and by a suspension; the guard compares it with the key's created_at (no extra read).
    credentials_reset_at = UnicodeAttribute(null=True)
    totp_enabled = BooleanAttribute(default=False)
    # Login lockout (mamba.services.sessions): consecutive failed logins, grown by atomic ADD
    # and cleared by a success; past the threshold ``locked_until`` (epoch seconds) is set.
    failed_logins = NumberAttribute(default=0)
    locked_until = NumberAttribute(null=True)
    # A requested new email, waiting for its verification link (PATCH /v1/me).
    pending_email = UnicodeAttribute(null=True)
    # 2FA (mamba.services.two_factor): the confirmed TOTP secret, one awaiting confirmation,
    # the last accepted time step (a code at or before it is a replay), and the SHA-256
    # hashes of the unused recovery codes (a set, so one conditional DELETE uses a code once).
    totp_secret = UnicodeAttribute(null=True)
    totp_pending_secret = UnicodeAttribute(null=True)
    totp_last_counter = NumberAttribute(null=True)
    totp_enabled_at = UnicodeAttribute(null=True)
    recovery_code_hashes = UnicodeSetAttribute(null=True)
    # Tenants this account created (POST /v1/tenants): grown by an ADD, conditional on the cap,
    # in the same transaction that creates the tenant, so parallel creates cannot pass it.
    owned_tenants = NumberAttribute(null=True)
    # Unread in-app notifications (docs/notifications.md): +1 in the transaction that stores
    # one, -1 in the one that marks it read, so GET /v1/me shows it without another read.
    unread_notifications = NumberAttribute(null=True)
    # Registered passkeys (mamba.adapters.dynamo.passkeys): grown and shrunk in the transaction
    # that adds or deletes one, so the guard knows from this item whether the user has 2FA.
    passkey_count = NumberAttribute(null=True)


class TenantItem(MainItem):
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    created_at = UnicodeAttribute()
    require_2fa = BooleanAttribute(default=False)
    # How many owner memberships the tenant has. Demoting or removing an owner decrements it
    # on the condition that it stays >= 1, so the last owner cannot go (mamba.adapters.dynamo.tenants).
    owner_count = NumberAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    # Billing (issue 7, mamba.adapters.dynamo.billing). ``plan_quotas`` is the JSON object of
    # the effective quotas (servers, memory_mb, disk_mb, backup_bytes, backups_per_server),
    # written whenever the plan changes; mamba.services.quotas reads it (absent: the
    # free-plan defaults of Settings).
    plan_quotas = UnicodeAttribute(null=True)
    plan_id = UnicodeAttribute(null=True)
    stripe_customer_id = UnicodeAttribute(null=True)
    subscription_id = UnicodeAttribute(null=True)
    subscription_status = UnicodeAttribute(null=True)
    current_period_end = NumberAttribute(null=True)
    cancel_at_period_end = BooleanAttribute(null=True)
    past_due_since = NumberAttribute(null=True)
    billing_state = UnicodeAttribute(null=True)  # active | suspended (by billing)
    deletion_due_at = NumberAttribute(null=True)
    # Before migration 0011 the sum of every credit, whatever its currency; no longer written
    # (balances are CreditBalanceItem, one per currency).
    credit_balance_cents = NumberAttribute(null=True)
    # The currency of the tenant's credits (set by its first credit): grants and purchases in
    # another currency are refused (409 CURRENCY_MISMATCH), as Stripe's customer balance is too.
    credit_currency = UnicodeAttribute(null=True)


class MembershipItem(MainItem):
    """A role binding of a user in a tenant. ``permissions`` is the role's permission set,
    copied here when the binding is made and whenever a custom role changes, so the guard
    authorizes from this one item. ``server_id`` scopes the binding to one server (a
    subuser); ``expires_at`` (epoch seconds) ends a temporary grant without any job."""

    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    role = UnicodeAttribute()
    created_at = UnicodeAttribute()
    permissions = ListAttribute(of=UnicodeAttribute, null=True)
    server_id = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)


class StepAttribute(MapAttribute[str, object]):
    name = UnicodeAttribute()
    status = UnicodeAttribute()
    started_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)


class OperationItem(MainItem):
    operation_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    type = UnicodeAttribute()
    status = UnicodeAttribute()
    target = UnicodeAttribute(null=True)
    steps = ListAttribute(of=StepAttribute, default=list)
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    # The workflow and its input as started (JSON), and the attempt: an admin retry runs the
    # same input again as attempt n+1 (gsi3: ``OPS#<status>`` / ``<created_at>#<op_id>``).
    workflow = UnicodeAttribute(null=True)
    workflow_input = UnicodeAttribute(null=True)
    attempt = NumberAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=0)


class LedgerItem(MainItem):
    applied = ListAttribute(of=UnicodeAttribute, default=list)
    updated_at = UnicodeAttribute(null=True)
    # Written by mamba.adapters.dynamo.migrations: when each applied version ran, and the
    # lease a runner holds while one migration runs (so no two runners apply it).
    applied_at = MapAttribute(default=dict)  # type: ignore[var-annotated]
    lock_owner = UnicodeAttribute(null=True)
    lock_version = UnicodeAttribute(null=True)
    lock_action = UnicodeAttribute(null=True)
    lock_expires_at = NumberAttribute(null=True)


class EmailClaimItem(MainItem):
    """Makes an email unique: put together with the user in one transaction, conditionally."""

    email = UnicodeAttribute()
    user_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class RoleItem(MainItem):
    """A role definition. Migration 0001 writes the built-in ones for listing."""

    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    permissions = ListAttribute(of=UnicodeAttribute, default=list)
    builtin = BooleanAttribute(default=False)
    tenant_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    # Custom roles (TENANT#<tid>/ROLE#<rid>): ``version`` grows on every change and a binding is
    # written only if it still matches; ``members`` counts the bindings, so a bound role is not deleted.
    version = NumberAttribute(default=0)
    members = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)


class NodeItem(MainItem):
    """A Wings node. ``token_ciphertext`` is the node token encrypted with KMS (never stored in clear)."""

    node_id = UnicodeAttribute()
    uuid = UnicodeAttribute()
    name = UnicodeAttribute()
    location = UnicodeAttribute(default="")
    fqdn = UnicodeAttribute()
    scheme = UnicodeAttribute(default="https")
    behind_proxy = BooleanAttribute(default=False)
    daemon_port = NumberAttribute()
    sftp_port = NumberAttribute()
    daemon_base = UnicodeAttribute()
    upload_limit_mb = NumberAttribute(default=100)
    memory_mb = NumberAttribute(default=0)
    memory_overallocate_percent = NumberAttribute(default=0)
    disk_mb = NumberAttribute(default=0)
    disk_overallocate_percent = NumberAttribute(default=0)
    maintenance = BooleanAttribute(default=False)
    allowed_tenants = ListAttribute(of=UnicodeAttribute, null=True)
    tags = ListAttribute(of=UnicodeAttribute, null=True)
    allowed_origins = ListAttribute(of=UnicodeAttribute, null=True)
    token_id = UnicodeAttribute()
    token_ciphertext = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class NodeTokenItem(MainItem):
    """Makes a node token id unique and maps it to its node (consistent read for Wings' auth)."""

    token_id = UnicodeAttribute()
    node_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class AllocationItem(MainItem):
    """One ip:port of a node; its key makes it unique. ``server_id`` is set while a server holds it."""

    node_id = UnicodeAttribute()
    ip = UnicodeAttribute()
    port = NumberAttribute()
    alias = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    server_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class BlueprintItem(MainItem):
    """A blueprint (egg). ``document`` is the whole blueprint as JSON (one read serves a server's config)."""

    blueprint_id = UnicodeAttribute()
    name = UnicodeAttribute()
    document = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class BlueprintUsageItem(MainItem):
    """``BLUEPRINT#<id>/USAGE``: how many servers (any status) use the blueprint (docs/data-model.md N11)."""

    servers = NumberAttribute(null=True)


class InvitationItem(MainItem):
    """A pending invitation to a tenant (TENANT#<tid>/INVITE#<iid>). Only the SHA-256 of the
    token's secret is stored; ``ttl`` is when the invitation lapses (readers compare it, since
    DynamoDB deletes expired items late). ``expires_at`` belongs to the grant it will create."""

    invitation_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    email = UnicodeAttribute()
    role = UnicodeAttribute()
    token_hash = UnicodeAttribute()
    invited_by = UnicodeAttribute()
    server_id = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    created_at = UnicodeAttribute()


class RoleNameItem(MainItem):
    """Makes a custom role's name unique in its tenant: put with the role, conditionally."""

    tenant_id = UnicodeAttribute()
    role_id = UnicodeAttribute()
    name = UnicodeAttribute()


class NodeBreakerItem(MainItem):
    """A node's circuit breaker, shared by every container. ``failures`` counts consecutive
    failed calls; ``opened_at`` is set when it opened; ``probe_until`` is the lease of the one
    container allowed to probe a half-open node. ``ttl`` makes a forgotten breaker vanish."""

    node_id = UnicodeAttribute()
    failures = NumberAttribute(default=0)
    opened_at = NumberAttribute(null=True)
    probe_until = NumberAttribute(null=True)


class NodeHealthItem(MainItem):
    """The node-health schedule's last probe of a node."""

    node_id = UnicodeAttribute()
    status = UnicodeAttribute()  # online | offline | unauthorized
    version = UnicodeAttribute(null=True)
    last_seen_at = UnicodeAttribute(null=True)
    checked_at = UnicodeAttribute()
    consecutive_failures = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)
    alerted = BooleanAttribute(default=False)


class NodeEventItem(MainItem):
    """An event about a node (``node.down``, ``node.recovered``) for notifications and the audit log."""

    event_id = UnicodeAttribute()
    node_id = UnicodeAttribute()
    type = UnicodeAttribute()
    created_at = UnicodeAttribute()
    detail = UnicodeAttribute(null=True)  # JSON


class ServerItem(MainItem):
    """A game server (issue 5 owns its lifecycle). ``environment`` is stored as a JSON
    object so string, number and boolean values keep their types for Wings."""

    server_uuid = UnicodeAttribute()
    short_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    tenant_id = UnicodeAttribute()
    node_id = UnicodeAttribute()
    blueprint_id = UnicodeAttribute()
    status = UnicodeAttribute()
    allocation_ip = UnicodeAttribute()
    allocation_port = NumberAttribute()
    additional_allocations = UnicodeAttribute(default="[]")  # JSON [[ip, port], ...]
    docker_image = UnicodeAttribute()
    startup = UnicodeAttribute()
    environment = UnicodeAttribute(default="{}")  # JSON object
    memory_mb = NumberAttribute()
    swap_mb = NumberAttribute(default=0)
    disk_mb = NumberAttribute()
    cpu_percent = NumberAttribute(default=0)
    io_weight = NumberAttribute(default=500)
    threads = UnicodeAttribute(null=True)
    oom_disabled = BooleanAttribute(default=True)
    backup_limit = NumberAttribute(default=0)
    allocation_limit = NumberAttribute(default=0)
    skip_install_script = BooleanAttribute(default=False)
    installed_at = UnicodeAttribute(null=True)
    status_reason = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # Written by the reconcile schedule (services/server_lifecycle.py): Wings' last
    # utilization object (JSON, wings-contract.md §2.4) and when it was read.
    utilization = UnicodeAttribute(null=True)
    observed_at = UnicodeAttribute(null=True)


class ServerLockItem(MainItem):
    """``SERVER#<uuid>/LOCK``: the lifecycle operation running on a server. Taken with a
    conditional put, released by the workflow's last state; ``ttl`` (epoch seconds) is when
    a lock whose workflow died may be taken over."""

    server_uuid = UnicodeAttribute()
    operation_id = UnicodeAttribute()
    operation_type = UnicodeAttribute()
    acquired_at = UnicodeAttribute()


class ServerSuspensionItem(MainItem):
    """``SERVER#<uuid>/SUSPENSION``: who suspended the server (``admin`` or ``billing``);
    present only while it is suspended, written in one transaction with the status."""

    server_uuid = UnicodeAttribute()
    suspended_by = UnicodeAttribute()
    suspended_at = UnicodeAttribute()


class ServerGuardItem(MainItem):
    """The quota guard of a tenant's servers: every create bumps ``version`` on the condition
    that it is still the value read before the quota check, in the same transaction as the
    allocation and the server, so two concurrent creates can never both pass a quota that
    only one fits (mamba.adapters.dynamo.placement)."""

    tenant_id = UnicodeAttribute()
    version = NumberAttribute(default=0)
    # JSON [[uuid, memory_mb, disk_mb, epoch], ...]: the last minutes' reservations, which
    # gsi2 (eventually consistent) may not list yet; usage counts them.
    recent = UnicodeAttribute(null=True)


class ServerActivityItem(MainItem):
    """One activity-log entry of a server (Wings posts them to /api/remote/activity)."""

    entry_id = UnicodeAttribute()
    server_uuid = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    node_id = UnicodeAttribute(null=True)
    event = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    timestamp = UnicodeAttribute()
    metadata = UnicodeAttribute(default="{}")  # JSON object
    source = UnicodeAttribute(default="wings")


class ApiKeyItem(MainItem):
    """An API key (``APIKEY#<key_id>/KEY``), listed under its owner through gsi1. Only the
    SHA-256 of the secret is stored; ``hint`` is its last characters, for recognising it."""

    key_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    hint = UnicodeAttribute()
    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    server_ids = ListAttribute(of=UnicodeAttribute, null=True)
    allowed_ips = ListAttribute(of=UnicodeAttribute, null=True)
    expires_at = NumberAttribute(null=True)  # epoch seconds
    created_at = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)
    last_used_epoch = NumberAttribute(null=True)
    last_used_ip = UnicodeAttribute(null=True)
    replaced_by = UnicodeAttribute(null=True)  # the key that rotated this one out
    key_format = UnicodeAttribute(null=True)  # None: "mamba" (mamba.domain.api_keys.KEY_PREFIXES)
    rights = UnicodeAttribute(null=True)  # an application key's rights, JSON {resource: right}


class AuditItem(MainItem):
    """One audit entry (``TENANT#<tid>`` or ``PLATFORM`` / ``AUDIT#<at>#<id>``). Written once
    with a put conditioned on ``attribute_not_exists(pk)``; no code updates or deletes it."""

    audit_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute(null=True)
    at = UnicodeAttribute()
    action = UnicodeAttribute()
    result = UnicodeAttribute()  # success | denied | error
    actor_id = UnicodeAttribute(null=True)
    actor_via = UnicodeAttribute(null=True)  # token | api_key
    target = UnicodeAttribute(null=True)
    permission = UnicodeAttribute(null=True)
    method = UnicodeAttribute(null=True)
    status = NumberAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    details = UnicodeAttribute(null=True)  # JSON object


class RateCounterItem(MainItem):
    """One fixed-window rate-limit counter: ``hits`` grows by atomic ADD; ``ttl`` is a little
    after the window's end, so old windows vanish on their own."""

    hits = NumberAttribute(default=0)


class OneTimeTokenItem(MainItem):
    """A mailed single-use token (email verification, password reset), keyed by its SHA-256.
    ``email`` is the address being verified (an email change verifies the new one)."""

    user_id = UnicodeAttribute()
    purpose = UnicodeAttribute()  # verify_email | reset_password
    email = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()
    created_at = UnicodeAttribute()


class TaskWaitItem(MainItem):
    """The Step Functions task token of a workflow waiting on a node's callback (an install,
    a backup, a restore), keyed by what it waits for (``mamba.services.task_waits``). ``ttl``
    lets DynamoDB drop the token of a wait that timed out."""

    task_token = UnicodeAttribute()
    parked_at = NumberAttribute()


class RefreshFamilyItem(MainItem):
    """A login session: every refresh token rotated from one login. ``issued_at`` (epoch) is
    compared with the user's ``sessions_valid_after``; ``revoked`` ends the whole family."""

    family_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    issued_at = NumberAttribute()
    expires_at = NumberAttribute()
    revoked = BooleanAttribute(default=False)
    revoked_reason = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    # For the owner's sessions list (gsi1: ``USER#<uid>`` / ``RFAMILY#<created_at>#<fid>``,
    # removed on revocation so revoked families drop out of it): the last refresh, and the IP
    # and User-Agent of the login or the last refresh, cut short.
    last_used_at = NumberAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)


class RefreshTokenItem(MainItem):
    """One refresh token of a family, keyed by its SHA-256; ``used_at`` is set when it is
    rotated, so presenting it again is detected as reuse."""

    family_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    expires_at = NumberAttribute()
    used_at = NumberAttribute(null=True)
    created_at = UnicodeAttribute()


class BackupItem(MainItem):
    """A server backup (issue 6; mamba.adapters.dynamo.backups). gsi1: the server's backups
    in creation order; gsi2: the tenant's (usage reconciliation)."""

    backup_uuid = UnicodeAttribute()
    server_uuid = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    node_id = UnicodeAttribute()
    name = UnicodeAttribute()
    ignored = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute()
    size_bytes = NumberAttribute(default=0)
    checksum = UnicodeAttribute(null=True)
    s3_key = UnicodeAttribute()
    upload_id = UnicodeAttribute(null=True)
    part_count = NumberAttribute(default=0)
    locked = BooleanAttribute(default=False)
    counted = BooleanAttribute(default=False)  # its size is in the tenant's usage counter
    created_at = UnicodeAttribute()
    completed_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()
    error = UnicodeAttribute(null=True)
    operation_id = UnicodeAttribute(null=True)
    restore_result = UnicodeAttribute(null=True)  # successful | failed, from Wings' restore callback
    server_status_before = UnicodeAttribute(null=True)
    orphaned_at = UnicodeAttribute(null=True)  # its server was deleted; the locked backup stayed


class BackupLockItem(MainItem):
    """Present while a backup of the server runs: one running backup per server."""

    backup_uuid = UnicodeAttribute()
    created_at = UnicodeAttribute()


class TenantBackupsItem(MainItem):
    """A tenant's backup storage counter (bytes, grown and shrunk by atomic ADD) and its
    retention choice. gsi1 ``BACKUPUSAGE`` lists every tenant for the reconciliation job."""

    tenant_id = UnicodeAttribute()
    usage_bytes = NumberAttribute(default=0)
    rotate = BooleanAttribute(default=False)
    reconciled_at = UnicodeAttribute(null=True)


class PlanItem(MainItem):
    """A plan (``PLAN#<id>/PROFILE``); quotas and metered prices are JSON."""

    plan_id = UnicodeAttribute()
    name = UnicodeAttribute()
    price_id = UnicodeAttribute(null=True)
    metered = UnicodeAttribute(default="[]")  # JSON [{metric, price_id, event_name}]
    quotas = UnicodeAttribute()  # JSON object
    grace_days = NumberAttribute(default=7)
    active = BooleanAttribute(default=True)
    # The display copy of the flat fee (plans written before it existed read as 0 usd/month).
    amount_cents = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    interval = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class PlanPriceItem(MainItem):
    """``PRICE#<price_id>/PLAN``: which plan a Stripe price belongs to."""

    price_id = UnicodeAttribute()
    plan_id = UnicodeAttribute()


class StripeCustomerItem(MainItem):
    """``STRIPECUS#<cus>/TENANT``: which tenant a Stripe customer belongs to."""

    customer_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()


class StripeEventItem(MainItem):
    """The dedupe claim of a Stripe event: put on the condition that it does not exist."""

    event_id = UnicodeAttribute()
    type = UnicodeAttribute()
    status = UnicodeAttribute()  # queued | processed
    received_at = UnicodeAttribute()


class TenantStatsItem(MainItem):
    """``STATS/TENANTS``: tenants by status for the fleet overview (``adapters/dynamo/overview.py``
    recomputes the whole item; tenant creation and status changes ADD to it in their transaction)."""

    c_active = NumberAttribute(null=True)
    c_suspended = NumberAttribute(null=True)


class NoticeItem(MainItem):
    """A billing email that was sent (its key makes it once-only)."""

    sent_at = UnicodeAttribute()


class UsageItem(MainItem):
    """One hour of one metric of one server (or the tenant's backups). ``value`` is the
    quantity for that hour; ``sent_at`` is set once Stripe accepted the meter event."""

    tenant_id = UnicodeAttribute()
    subject = UnicodeAttribute()
    metric = UnicodeAttribute()
    hour = NumberAttribute()
    value = UnicodeAttribute()  # a decimal string, as sent to Stripe
    seconds = NumberAttribute(default=0)
    identifier = UnicodeAttribute()
    event_name = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)


class CreditItem(MainItem):
    """One credit-ledger entry (an admin grant or a purchase); amounts in cents, positive = credit."""

    entry_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    amount_cents = NumberAttribute()
    currency = UnicodeAttribute()
    source = UnicodeAttribute()  # admin | purchase
    reason = UnicodeAttribute(default="")
    actor_id = UnicodeAttribute(null=True)
    stripe_transaction_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class CreditBalanceItem(MainItem):
    """The tenant's credit balance in one currency (``TENANT#<tid>/CREDITBAL#<currency>``),
    changed only with ``ADD`` in the transaction that writes the ledger entry, so amounts in
    different currencies are never added together."""

    tenant_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    balance_cents = NumberAttribute(default=0)


class ServerRunItem(MainItem):
    """An interval a server ran (``SERVER#<uuid>/RUN#<start>``); ``ended_at`` is null while
    it runs. Opened and closed from the reconciled status (mamba.services.metering)."""

    server_uuid = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    memory_mb = NumberAttribute()
    started_at = NumberAttribute()
    ended_at = NumberAttribute(null=True)


class ServerRunStateItem(MainItem):
    """``SERVER#<uuid>/RUNSTATE``: the start of the open run interval, if any."""

    open_started_at = NumberAttribute(null=True)


ITEM_CLASSES: tuple[type[MainItem], ...] = (
    BackupItem,
    BackupLockItem,
    TenantBackupsItem,
    ServerRunItem,
    ServerRunStateItem,
    PlanItem,
    PlanPriceItem,
    StripeCustomerItem,
    StripeEventItem,
    NoticeItem,
    UsageItem,
    CreditItem,
    CreditBalanceItem,
    RateCounterItem,
    OneTimeTokenItem,
    TaskWaitItem,
    RefreshFamilyItem,
    RefreshTokenItem,
    MainItem,
    UserItem,
    TenantItem,
    MembershipItem,
    OperationItem,
    LedgerItem,
    EmailClaimItem,
    RoleItem,
    InvitationItem,
    RoleNameItem,
    ApiKeyItem,
    AuditItem,
    NodeBreakerItem,
    NodeHealthItem,
    NodeEventItem,
    ServerItem,
    ServerGuardItem,
    ServerLockItem,
    ServerSuspensionItem,
    ServerActivityItem,
    NodeItem,
    NodeTokenItem,
    AllocationItem,
    BlueprintItem,
)


def bind(table_name: str, region: str, host: str | None) -> None:
    """Point every item class at the configured table. Called once by bootstrap.

    Every class shares one connection on the process's DynamoDB client (``SharedClientModel``);
    binding again to the same table keeps it (tests rebind after every ``bootstrap.reset()``)."""
    if (MainItem.Meta.table_name, MainItem.Meta.region, MainItem.Meta.host) == (table_name, region, host):
        return
    MainItem.Meta.table_name = table_name
    MainItem.Meta.region = region
    MainItem.Meta.host = host
    for cls in ITEM_CLASSES:
        cls._connection = None  # drop a connection made for another table (tests rebind)


def forget_connections() -> None:
    """Drop the shared connections (they hold the client): the SnapStart after-restore hook."""
    with _CONNECTIONS_LOCK:
        _CONNECTIONS.clear()
        for cls in ITEM_CLASSES:
            cls._connection = None


class PteroRefItem(MainItem):
    """The Pterodactyl integer id of a Mamba object (docs/pterodactyl-api.md, P1-P4): the object's
    side ``PTERO#<kind>#<ref>/ID``, the number's side ``PTERO#<kind>#N<number>/REF``, an external
    id's side ``PTERO#<kind>#X<external_id>/REF``, and a server's 8-character identifier
    ``PTERO#identifier#<short>/REF``. Each side holds all four facts, so any look-up is one read."""

    id_kind = UnicodeAttribute()
    ref = UnicodeAttribute()  # the Mamba id (a server's uuid, a node id, "node|ip|port" of an allocation...)
    number = NumberAttribute()
    scope = UnicodeAttribute(null=True)  # a server's tenant, an allocation's node
    external_id = UnicodeAttribute(null=True)


class PteroCounterItem(MainItem):
    """``PTERO#COUNTER/<kind>``: the last integer id handed out for a kind (atomic ADD)."""

    value = NumberAttribute(default=0)


class PteroRecordItem(MainItem):
    """``PTERO#RECORD#<kind>/<ref>``: the Pterodactyl-only values of one object (a location's long
    name, a user's username and names), as a map of plain values."""

    values: MapAttribute[str, object] = MapAttribute(default=dict)
