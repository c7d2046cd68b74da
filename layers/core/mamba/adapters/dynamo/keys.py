"""Key functions: the only place partition and sort keys are spelled."""

from __future__ import annotations


def user(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "PROFILE"


def user_email(email: str) -> str:
    return f"EMAIL#{email.lower()}"


def tenant(tenant_id: str) -> tuple[str, str]:
    return f"TENANT#{tenant_id}", "PROFILE"


def membership(tenant_id: str, user_id: str) -> tuple[str, str]:
    return f"TENANT#{tenant_id}", f"MEMBER#{user_id}"


def memberships_of_user(user_id: str) -> str:
    return f"USER#{user_id}"


def operation(tenant_id: str, op_id: str) -> tuple[str, str]:
    return f"TENANT#{tenant_id}", f"OP#{op_id}"


def operation_by_id(op_id: str) -> str:
    return f"OP#{op_id}"


ALL_OPERATIONS = "OPS"


def operations_by_status(status: str) -> str:
    """gsi3 partition of the operations in one status (sort key ``<created_at>#<op_id>``)."""
    return f"OPS#{status}"


MIGRATION_LEDGER = ("META#MIGRATIONS", "LEDGER")


# --- outgoing webhooks (mamba.adapters.dynamo.webhooks, docs/webhooks.md) ---

WEBHOOK_PREFIX = "WEBHOOK#"
# The due-list's gsi1 partitions. One: the schedule reads it every minute (one Query per shard
# per run is its whole idle cost), and a partition takes ~1,000 writes a second, about 300
# deliveries a second (each writes it three times). Raise it when the panel sends more: the keys
# and the reader spread over the shards already.
WEBHOOK_DUE_SHARDS = 1


def webhook(tenant_id: str, webhook_id: str) -> tuple[str, str]:
    return f"TENANT#{tenant_id}", f"{WEBHOOK_PREFIX}{webhook_id}"


def webhook_count(tenant_id: str) -> tuple[str, str]:
    """The tenant's webhook counter (its limit is kept by transactions with it)."""
    return f"TENANT#{tenant_id}", "WEBHOOKS"


def webhook_delivery(webhook_id: str, delivery_id: str) -> tuple[str, str]:
    return f"WEBHOOK#{webhook_id}", f"DELIVERY#{delivery_id}"


def webhook_due(delivery_id: str, due_at: int) -> tuple[str, str]:
    """gsi1 key of a delivery waiting for its attempt at ``due_at`` (epoch seconds)."""
    shard = sum(delivery_id.encode()) % WEBHOOK_DUE_SHARDS
    return f"WEBHOOKS_DUE#{shard}", f"{due_at:012d}#{delivery_id}"


def webhook_due_partition(shard: int) -> str:
    return f"WEBHOOKS_DUE#{shard}"


def webhook_log(tenant_id: str, webhook_id: str) -> str:
    """The partition of a webhook's attempts (its tenant in the key: another tenant reads nothing)."""
    return f"WEBHOOKLOG#{tenant_id}#{webhook_id}"


def webhook_attempt(tenant_id: str, webhook_id: str, at_ms: int, delivery_id: str, attempt: int) -> tuple[str, str]:
    return webhook_log(tenant_id, webhook_id), f"{at_ms:015d}#{delivery_id}#{attempt:03d}"


# --- accounts: users, email uniqueness, tenants, memberships (see docs/data-model.md) ---


def email_claim(email: str) -> tuple[str, str]:
    """The item whose conditional put makes an email unique; it holds the owning user id."""
    return user_email(email), "CLAIM"


USER_MEMBERSHIP_PREFIX = "TENANT#"


def user_membership_sort(tenant_id: str) -> str:
    """gsi1sk of a membership, under gsi1pk ``memberships_of_user(user_id)``."""
    return f"{USER_MEMBERSHIP_PREFIX}{tenant_id}"


ALL_USERS = "USERS"  # gsi1pk of every user profile (admin listing, newest last)
ALL_TENANTS = "TENANTS"  # gsi1pk of every tenant profile (admin listing, newest last)


def created_sort(created_at: str, item_id: str) -> str:
    """gsi1sk for the admin listings: ISO time first so a Query returns them in creation order."""
    return f"{created_at}#{item_id}"


# --- role catalogue (written by migration 0001) ---

BUILTIN_ROLES = "ROLES#BUILTIN"
ROLE_PREFIX = "ROLE#"


def builtin_role(name: str) -> tuple[str, str]:
    return BUILTIN_ROLES, f"{ROLE_PREFIX}{name}"


def api_key(key_id: str) -> tuple[str, str]:
    return f"APIKEY#{key_id}", "KEY"


# --- node registry, allocations, blueprints (issue 4 part 2; see docs/data-model.md) ---

ALL_NODES = "NODES"  # gsi1pk of every node profile, gsi1sk = created_sort(created_at, node_id)


def node(node_id: str) -> tuple[str, str]:
    return f"NODE#{node_id}", "PROFILE"


def node_token(token_id: str) -> tuple[str, str]:
    """The claim that makes a node token id unique and finds its node (Wings' remote auth)."""
    return f"NODETOKEN#{token_id}", "CLAIM"


ALLOCATION_PREFIX = "ALLOC#"


def allocation(node_id: str, ip: str, port: int) -> tuple[str, str]:
    """One ip:port of a node, under the node's partition; ports zero-padded so a Query sorts them."""
    return f"NODE#{node_id}", f"{ALLOCATION_PREFIX}{ip}#{port:05d}"


ALL_BLUEPRINTS = "BLUEPRINTS"  # gsi1pk of every blueprint, gsi1sk = created_sort(created_at, blueprint_id)


def blueprint(blueprint_id: str) -> tuple[str, str]:
    return f"BLUEPRINT#{blueprint_id}", "PROFILE"


def blueprint_usage(blueprint_id: str) -> tuple[str, str]:
    """How many servers use a blueprint (``servers``): ADDed by the reservation, taken back when a server's
    records are removed; a blueprint is deleted only while it is 0 (a separate item, so the counter never
    rewrites the egg document and a reservation never recreates a deleted blueprint's profile)."""
    return f"BLUEPRINT#{blueprint_id}", "USAGE"


# --- Wings nodes: circuit breaker; game servers (issue 4; see docs/data-model.md) ---


def node_breaker(node_id: str) -> tuple[str, str]:
    """The circuit-breaker state of one node, shared by every Lambda container (TTL'd)."""
    return f"NODE#{node_id}", "BREAKER"


def node_health(node_id: str) -> tuple[str, str]:
    """The last probe result of one node (written by the node-health schedule)."""
    return f"NODE#{node_id}", "HEALTH"


NODE_EVENT_PREFIX = "EVENT#"


def node_event(node_id: str, at: str, event_id: str) -> tuple[str, str]:
    """An alert or audit event about a node (e.g. ``node.down``), newest last under the node."""
    return f"NODE#{node_id}", f"{NODE_EVENT_PREFIX}{at}#{event_id}"


ALL_NODE_EVENTS = "NODE_EVENTS"  # gsi1pk of every node event, gsi1sk = created_sort(at, event_id)


def server(server_uuid: str) -> tuple[str, str]:
    """A game server, keyed by its lowercase uuid (what Wings calls it by)."""
    return f"SERVER#{server_uuid}", "PROFILE"


def servers_of_node(node_id: str) -> str:
    """gsi1pk of every server assigned to a node; gsi1sk is the server uuid."""
    return f"NODESERVERS#{node_id}"


ALL_SERVERS = "SERVERS"  # gsi3pk of every server, gsi3sk = created_sort(created_at, uuid) (admin listing)


def servers_of_tenant(tenant_id: str) -> str:
    """gsi2pk of every server of a tenant; gsi2sk is ``created_sort(created_at, uuid)``."""
    return f"TENANTSERVERS#{tenant_id}"


def server_guard(tenant_id: str) -> tuple[str, str]:
    """The quota guard of a tenant's servers (a version every create bumps conditionally)."""
    return f"TENANT#{tenant_id}", "SERVERGUARD"


def server_activity(server_uuid: str, timestamp: str, entry_id: str) -> tuple[str, str]:
    """One activity-log entry of a server (from Wings' /activity or the panel), in time order."""
    return f"SERVER#{server_uuid}", f"ACTIVITY#{timestamp}#{entry_id}"


SERVER_ACTIVITY_PREFIX = "ACTIVITY#"


def server_suspension(server_uuid: str) -> tuple[str, str]:
    """Who suspended a server (admin or billing), kept apart from its profile so that a
    whole-item save of the profile cannot lose it."""
    return f"SERVER#{server_uuid}", "SUSPENSION"


def server_lock(server_uuid: str) -> tuple[str, str]:
    """The one lifecycle operation running on a server (delete, reinstall, build, suspend)."""
    return f"SERVER#{server_uuid}", "LOCK"


# --- API keys and the audit log (issue 3; see docs/data-model.md) ---

API_KEY_SORT_PREFIX = "APIKEY#"


def api_keys_of_user(user_id: str) -> str:
    """gsi1pk of a user's API keys (the user's gsi1 partition, next to their memberships)."""
    return f"USER#{user_id}"


def user_api_key_sort(created_at: str, key_id: str) -> str:
    """gsi1sk of an API key under ``api_keys_of_user``: in creation order."""
    return f"{API_KEY_SORT_PREFIX}{created_at}#{key_id}"


PLATFORM_AUDIT = "PLATFORM"  # the audit partition of account and admin actions
SECURITY_AUDIT = "SECURITY"  # the audit partition of requests refused before authentication
AUDIT_PREFIX = "AUDIT#"


def audit_partition(tenant_id: str | None, security: bool = False) -> str:
    """``TENANT#<tid>`` for a tenant's entries, ``PLATFORM`` for account and admin ones,
    ``SECURITY`` for requests refused before their caller was proven (issue 10, finding 7)."""
    if security:
        return SECURITY_AUDIT
    return f"TENANT#{tenant_id}" if tenant_id else PLATFORM_AUDIT


def audit_entry(tenant_id: str | None, at: str, entry_id: str, security: bool = False) -> tuple[str, str]:
    """One audit entry; ``at`` is a fixed-width UTC time, so the sort key orders entries by time."""
    return audit_partition(tenant_id, security), f"{AUDIT_PREFIX}{at}#{entry_id}"


def audit_sort_bound(at: str) -> str:
    """A sort-key bound for a time filter (``from``/``to``) on ``audit_entry`` keys."""
    return f"{AUDIT_PREFIX}{at}"


# --- accounts: rate limits, mailed tokens, refresh-token families (issue 3; docs/data-model.md) ---


def rate_counter(limit_name: str, subject_digest: str, window_start: int) -> tuple[str, str]:
    """One fixed window of one limit for one subject (an IP or email, stored only as a digest)."""
    return f"RATE#{limit_name}#{subject_digest}", f"W#{window_start}"


def one_time_token(token_digest: str) -> tuple[str, str]:
    """A mailed verification or reset token, by the SHA-256 of the token (never the token)."""
    return f"OTT#{token_digest}", "TOKEN"


def refresh_family(family_id: str) -> tuple[str, str]:
    return f"RFAMILY#{family_id}", "FAMILY"


REFRESH_FAMILY_SORT_PREFIX = "RFAMILY#"


def refresh_families_of_user(user_id: str) -> str:
    """gsi1pk of a user's live refresh families (the user's gsi1 partition, next to their keys)."""
    return f"USER#{user_id}"


def user_refresh_family_sort(created_at: str, family_id: str) -> str:
    """gsi1sk of a refresh family under ``refresh_families_of_user``: in creation order."""
    return f"{REFRESH_FAMILY_SORT_PREFIX}{created_at}#{family_id}"


def refresh_token(family_id: str, token_digest: str) -> tuple[str, str]:
    """A refresh token sits in its family's partition, so family and token are one BatchGetItem."""
    return f"RFAMILY#{family_id}", f"TOKEN#{token_digest}"


# --- tenancy: members, invitations, custom roles (issue 3 part 2; see docs/data-model.md) ---

MEMBER_PREFIX = "MEMBER#"  # sk prefix of a tenant's memberships, under tenant_partition()
INVITATION_PREFIX = "INVITE#"


def tenant_partition(tenant_id: str) -> str:
    """The partition every record of a tenant lives in (profile, members, invitations, roles, ops)."""
    return f"TENANT#{tenant_id}"


def invitation(tenant_id: str, invitation_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), f"{INVITATION_PREFIX}{invitation_id}"


def custom_role(tenant_id: str, role_id: str) -> tuple[str, str]:
    """A tenant's custom role; its sk shares ``ROLE_PREFIX`` with the built-in catalogue."""
    return tenant_partition(tenant_id), f"{ROLE_PREFIX}{role_id}"


def role_name_claim(tenant_id: str, name: str) -> tuple[str, str]:
    """Makes a custom role's name unique in its tenant (case-insensitive)."""
    return tenant_partition(tenant_id), f"ROLENAME#{name.strip().lower()}"


# --- backups (issue 6; see docs/backups.md and docs/data-model.md) ---


def backup(backup_uuid: str) -> tuple[str, str]:
    """A backup, keyed by its uuid (what Wings calls it by in the remote API)."""
    return f"BACKUP#{backup_uuid}", "PROFILE"


def backups_of_server(server_uuid: str) -> str:
    """gsi1pk of a server's backups; gsi1sk is ``created_sort(created_at, backup_uuid)``."""
    return f"SERVERBACKUPS#{server_uuid}"


def backups_of_tenant(tenant_id: str) -> str:
    """gsi2pk of a tenant's backups; gsi2sk is ``created_sort(created_at, backup_uuid)``."""
    return f"TENANTBACKUPS#{tenant_id}"


def backup_lock(server_uuid: str) -> tuple[str, str]:
    """Held while one backup of the server runs (created with attribute_not_exists)."""
    return f"SERVER#{server_uuid}", "BACKUPLOCK"


def tenant_backups(tenant_id: str) -> tuple[str, str]:
    """A tenant's backup storage counter and retention setting."""
    return tenant_partition(tenant_id), "BACKUPS"


ALL_BACKUP_USAGE = "BACKUPUSAGE"  # gsi1pk of every tenant's backup counter, gsi1sk = tenant id
# --- billing: plans, Stripe links, webhook claims, usage and credits (issue 7; docs/billing.md) ---

ALL_PLANS = "PLANS"  # gsi1pk of every plan, gsi1sk = created_sort(created_at, plan_id)


def plan(plan_id: str) -> tuple[str, str]:
    return f"PLAN#{plan_id}", "PROFILE"


def plan_price(price_id: str) -> tuple[str, str]:
    """Maps a Stripe price id to its plan; put with the plan, so a price has one plan."""
    return f"PRICE#{price_id}", "PLAN"


def stripe_customer(customer_id: str) -> tuple[str, str]:
    """Maps a Stripe customer id to its tenant (webhooks name the customer, not the tenant)."""
    return f"STRIPECUS#{customer_id}", "TENANT"


def stripe_event(event_id: str) -> tuple[str, str]:
    """The dedupe claim of one Stripe event id (TTL'd, at least 30 days)."""
    return f"STRIPEEVT#{event_id}", "CLAIM"


DUNNING = "DUNNING"  # gsi2pk of tenants whose billing needs a scheduled look (past_due, canceled)


def dunning_sort(due_at: int, tenant_id: str) -> str:
    return f"{due_at:012d}#{tenant_id}"


def billing_notice(tenant_id: str, notice_key: str) -> tuple[str, str]:
    """Makes one notification email (per invoice attempt, per trial end...) go out once."""
    return tenant_partition(tenant_id), f"NOTICE#{notice_key}"


USAGE_PREFIX = "USAGE#"


def usage(tenant_id: str, hour_label: str, subject: str, metric: str) -> tuple[str, str]:
    """One hour of one metric of one server (or of the tenant's backups), under the tenant."""
    return tenant_partition(tenant_id), f"{USAGE_PREFIX}{hour_label}#{subject}#{metric}"


UNSENT_USAGE = "USAGE_UNSENT"  # gsi2pk of usage rows not yet accepted by Stripe (sparse)

CREDIT_PREFIX = "CREDIT#"


def credit(tenant_id: str, at: str, entry_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), f"{CREDIT_PREFIX}{at}#{entry_id}"


CREDIT_BALANCE_PREFIX = "CREDITBAL#"


def credit_balance(tenant_id: str, currency: str) -> tuple[str, str]:
    """The tenant's credit balance in one currency (ISO 4217, lowercase)."""
    return tenant_partition(tenant_id), f"{CREDIT_BALANCE_PREFIX}{currency}"


def credit_claim(tenant_id: str, entry_id: str) -> tuple[str, str]:
    """Makes a credit entry id unique (a redelivered purchase never credits twice)."""
    return tenant_partition(tenant_id), f"CREDITID#{entry_id}"


RUN_PREFIX = "RUN#"


def server_run(server_uuid: str, started_at: int) -> tuple[str, str]:
    """One interval a server ran (metering), under the server: start time in the sort key."""
    return f"SERVER#{server_uuid}", f"{RUN_PREFIX}{started_at:012d}"


def server_run_state(server_uuid: str) -> tuple[str, str]:
    """Which run interval of the server is open (none while it is not running)."""
    return f"SERVER#{server_uuid}", "RUNSTATE"


# --- fleet overview (issue 12; see docs/data-model.md F1-F4) ---

STATS_PK = "STATS"


def stats(kind: str) -> tuple[str, str]:
    """One counter item per kind (``TENANTS``, ``SERVERS``, ``NODELOAD``): a number per status
    (or per node and resource), refreshed from the source records; read by the overview."""
    return STATS_PK, kind


LAST_RECONCILE = ("META#RECONCILE", "LAST")


def stripe_event_first_error(event_id: str) -> tuple[str, str]:
    """The first error processing a Stripe event met (kept while its dead letter may wait)."""
    return f"STRIPEEVT#{event_id}", "FIRSTERROR"


# --- a tenant's data deletion (issue 12: the retention job, account deletion) ---

TENANT_TOMBSTONE_SK = "DELETED"


def tenant_tombstone(tenant_id: str) -> tuple[str, str]:
    """What is left to say a tenant's data was deleted (when, its name, its Stripe customer)."""
    return tenant_partition(tenant_id), TENANT_TOMBSTONE_SK


# Sort-key prefixes of the records a tenant's data deletion keeps (docs/tenancy.md): the audit
# log, and the credit ledger with its balances and entry claims (booking records).
KEPT_TENANT_PREFIXES = (AUDIT_PREFIX, CREDIT_PREFIX, CREDIT_BALANCE_PREFIX, "CREDITID#", TENANT_TOMBSTONE_SK)


# --- metrics history (issue 13; the metrics table, docs/data-model.md M1-M5) ---

METRICS_ROLLED = "rolled"  # sk of a node's "last hour rolled up" marker


def metrics_node(node_id: str) -> str:
    """Partition of a node's minute items, its totals' rollups and its rollup marker."""
    return f"NODE#{node_id}"


def metrics_server(server_uuid: str) -> str:
    """Partition of a server's hour rollups."""
    return f"SERVER#{server_uuid}"


def metrics_minute(t: int) -> str:
    """Sort key of a node's minute item (zero-padded epoch seconds, so strings sort as times)."""
    return f"m#{t:010d}"


def metrics_rollup(hour: int) -> str:
    return f"r#{hour:010d}"


# --- a server's event history and last power request (main table, under the server) ---

SERVER_EVENT_PREFIX = "EVENT#"
SERVER_EVENTS_END = "EVENT#~"  # after every event sort key ("~" sorts after digits)
SERVER_POWER = "POWER"


def server_event(at: int, event_id: str) -> str:
    return f"{SERVER_EVENT_PREFIX}{at:010d}#{event_id}"


# --- workflows waiting on a node's callback (issue 13: task tokens) ---


def task_wait(subject: str) -> tuple[str, str]:
    """The task token parked for ``subject`` (``install:<server>``, ``backup:<uuid>``, ``restore:<uuid>``)."""
    return f"WAIT#{subject}", "TOKEN"


# --- notifications (issue 14: docs/notifications.md) ---

NOTIFICATION_PREFIX = "NOTIF#"


def notification(user_id: str, event_id: str) -> tuple[str, str]:
    """One in-app notification, under its user (the event id makes a repeat the same item)."""
    return f"USER#{user_id}", f"{NOTIFICATION_PREFIX}{event_id}"


def notifications_of_user(user_id: str) -> str:
    """gsi1pk of a user's notifications, gsi1sk = notification_sort(occurred_at, event_id)."""
    return f"NOTIFS#{user_id}"


def unread_notifications_of_user(user_id: str) -> str:
    """gsi2pk of a user's unread notifications (sparse: removed when read), same sort key."""
    return f"UNREAD#{user_id}"


def notification_sort(occurred_at: str, event_id: str) -> str:
    return f"{occurred_at}#{event_id}"


def notification_preferences(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "NOTIFPREFS"


def event_mail_claim(event_id: str, user_id: str) -> tuple[str, str]:
    """ "This user was mailed this event" (TTL): the mail channel's dedupe."""
    return f"NOTIFYEVENT#{event_id}", f"MAILED#{user_id}"


# --- sign-in with an identity provider (issue 17: OAuth / OpenID Connect, docs/oauth.md) ---

IDENTITY_PREFIX = "IDENTITY#"


def oauth_state(digest: str) -> tuple[str, str]:
    """A started flow, under the SHA-256 of its ``state`` (single use, TTL)."""
    return f"OAUTH#STATE#{digest}", "STATE"


def oauth_ticket(digest: str) -> tuple[str, str]:
    """A callback's result waiting for the panel's page (or a mailed link), under its digest."""
    return f"OAUTH#TICKET#{digest}", "TICKET"


def identity(user_id: str, provider: str, subject: str) -> tuple[str, str]:
    """A linked provider account, under its user (listed by one Query)."""
    return f"USER#{user_id}", f"{IDENTITY_PREFIX}{provider}#{subject}"


def identity_claim(provider: str, subject: str) -> tuple[str, str]:
    """The item whose conditional put makes a provider account linked to one user only."""
    return f"{IDENTITY_PREFIX}{provider}#{subject}", "CLAIM"


# --- passkeys (issue 17: WebAuthn) ---

PASSKEY_PREFIX = "PASSKEY#"


def passkey(user_id: str, passkey_id: str) -> tuple[str, str]:
    """One passkey of a user, beside the profile: the user's passkeys are one Query."""
    return f"USER#{user_id}", f"{PASSKEY_PREFIX}{passkey_id}"


def webauthn_challenge(challenge_id: str) -> tuple[str, str]:
    """A ceremony's one-time challenge (expires by TTL when never answered)."""
    return f"WEBAUTHN#{challenge_id}", "CHALLENGE"


# --- service accounts (issue 17 item 3; see docs/service-accounts.md and docs/data-model.md) ---

SERVICE_ACCOUNT_PREFIX = "SVCACCT#"  # sk prefix of a tenant's service accounts, under tenant_partition()


def service_account(tenant_id: str, service_account_id: str) -> tuple[str, str]:
    """A service account with its role binding, in its tenant's partition: the guard reads it
    in place of a membership, so a key of another tenant's service account finds nothing (404)."""
    return tenant_partition(tenant_id), f"{SERVICE_ACCOUNT_PREFIX}{service_account_id}"


def key_expiry_day(day: str) -> str:
    """gsi3 partition of the service-account keys that expire on ``day`` (``YYYY-MM-DD``, UTC);
    gsi3sk is ``<expires_at, zero-padded>#<key_id>``. The expiry notice reads eight days of it."""
    return f"KEYEXPIRY#{day}"


def key_expiry_sort(expires_at: int, key_id: str) -> str:
    return f"{expires_at:012d}#{key_id}"


# --- Pterodactyl ids (issue 16; docs/pterodactyl-api.md) ---

PTERO_COUNTER = "PTERO#COUNTER"


def ptero_ref(kind: str, ref: str) -> tuple[str, str]:
    """The integer id of the Mamba object ``ref`` of ``kind``."""
    return f"PTERO#{kind}#{ref}", "ID"


def ptero_number(kind: str, number: int) -> tuple[str, str]:
    """The Mamba object behind integer ``number`` of ``kind``."""
    return f"PTERO#{kind}#N{number}", "REF"


def ptero_external(kind: str, external_id: str) -> tuple[str, str]:
    """The object a client's ``external_id`` names."""
    return f"PTERO#{kind}#X{external_id}", "REF"


def ptero_identifier(short: str) -> tuple[str, str]:
    """A server by its 8-character identifier (the first 8 characters of its uuid)."""
    return f"PTERO#identifier#{short}", "REF"


def ptero_record(kind: str, ref: str) -> tuple[str, str]:
    """What a Pterodactyl object carries beyond its Mamba object; a kind's records share one
    partition, so listing them (locations) is one Query."""
    return f"PTERO#RECORD#{kind}", ref
