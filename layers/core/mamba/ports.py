"""Ports: what services need from the outside world. Adapters implement them; tests fake them.

Each port is a ``Protocol`` naming the methods the services call, with the adapter that
implements it in production (built by ``mamba.bootstrap``). A payload that crosses a port
untyped (a Wings or Stripe JSON document) is ``dict[str, object]``: the service that reads it
checks what it finds. A port used by one use case only may live next to it (for example
``mamba.services.accounts.UserRepository``); the ones several services share live here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    # Annotations only: the ports cost nothing at import (a request imports only the domain it uses).
    from mamba.domain.accounts import AuthFacts
    from mamba.domain.audit import AuditEntry, AuditFilter, AuditPage
    from mamba.domain.backups import Backup
    from mamba.domain.billing import BillingState, CreditEntry, Plan, PriceFacts, SubscriptionFacts, UsageRow
    from mamba.domain.blueprints import Blueprint
    from mamba.domain.events import Event
    from mamba.domain.fleet import FleetServer, ServerFilter
    from mamba.domain.nodes import Allocation, AllocationResult, Node, NodeEvent, NodeHealth
    from mamba.domain.notifications import Binding, Notification, Preferences, Recipient
    from mamba.domain.operations import Operation
    from mamba.domain.overview import DeadLetterMessage, FleetCounts
    from mamba.domain.pages import Page, PageRequest
    from mamba.domain.passkeys import Challenge, Passkey
    from mamba.domain.placement import NodeLoad, TenantGuard
    from mamba.domain.pterodactyl import IdRef
    from mamba.domain.quotas import Quotas, Usage
    from mamba.domain.ratelimit import Limit
    from mamba.domain.retention import Purged
    from mamba.domain.server_lifecycle import ObservedServer
    from mamba.domain.servers import ActivityEntry, FeatureLimits, Limits, Server

# A JSON document as an external system sends it (Wings, Stripe, Step Functions).
Document = dict[str, object]


class OperationRepository(Protocol):
    """``DynamoOperationRepository``."""

    def add(self, op: Operation) -> None: ...
    def get(self, tenant_id: str, op_id: str) -> Operation: ...
    def find(self, op_id: str) -> Operation: ...
    def save(self, op: Operation) -> None: ...
    def list_all(
        self, page: PageRequest, status: str | None = None, op_type: str | None = None, since: str | None = None
    ) -> Page[Operation]: ...
    def begin_retry(self, retried: Operation) -> None: ...


class Workflows(Protocol):
    """Step Functions (``SfnWorkflows``): starts the named workflow, execution named after the
    operation (and its attempt, from the second on)."""

    def start(self, workflow: str, operation_id: str, payload: dict[str, object], attempt: int = 1) -> str: ...
    def failure(self, workflow: str, operation_id: str, attempt: int = 1) -> dict[str, str] | None:
        """The failed execution's ``{"state", "error", "cause"}``, or None while it has not failed
        (or never started)."""
        ...

    def status(self, workflow: str, operation_id: str, attempt: int = 1) -> str | None:
        """The execution's status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED), or None when
        it was never started (the sweeper, mamba.services.sweeper)."""
        ...


class HealthProbes(Protocol):
    def check(self) -> dict[str, str]: ...


class Clock(Protocol):
    def __call__(self) -> str: ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None: ...


class RateLimiter(Protocol):
    """Fixed-window counters (``mamba.domain.ratelimit.Limit``), shared by every container."""

    def add(self, limit: Limit, subject: str, now: int) -> int:
        """Count one event for ``subject`` in the current window; returns the window's count."""

    def peek(self, checks: Sequence[tuple[Limit, str]], now: int) -> list[int]:
        """The current window's count of each (limit, subject), in order, without counting."""

    def release(self, limit: Limit, subject: str, now: int) -> None:
        """Give back one event counted by ``add`` at the same ``now`` (never below zero)."""


class Captcha(Protocol):
    def verify(self, token: str | None, remote_ip: str) -> None:
        """Raises CaptchaFailedError for a missing or rejected token and
        DependencyUnavailableError when the provider cannot be asked."""


class NodeAgent(Protocol):
    """One Wings node's daemon API (``mamba.adapters.wings.client.WingsHttpNodeAgent``, built by
    ``bootstrap.node_agent``). Every method raises ``WingsUnavailableError`` (network, timeout,
    5xx, open circuit breaker), ``WingsRejectedError`` (4xx, Wings' message) or
    ``WingsNotFoundError``; only idempotent calls are retried."""

    def system(self, *, probe: bool = False, extended: bool = False) -> Document: ...
    def update_configuration(self, configuration: Document) -> bool: ...
    def list_servers(self, *, probe: bool = False) -> list[Document]: ...
    def get_server(self, server_uuid: str) -> Document: ...
    def create_server(self, server_uuid: str, *, start_on_completion: bool = False) -> None: ...
    def delete_server(self, server_uuid: str) -> None: ...
    def power(self, server_uuid: str, action: str, *, wait_seconds: int | None = None) -> None: ...
    def send_commands(self, server_uuid: str, commands: list[str]) -> None: ...
    def install(self, server_uuid: str) -> None: ...
    def reinstall(self, server_uuid: str) -> None: ...
    def sync(self, server_uuid: str) -> None: ...
    def logs(self, server_uuid: str, size: int = 100) -> list[str]: ...
    def deny_websocket_tokens(self, server_uuid: str, jtis: list[str]) -> None: ...
    def deauthorize_user(self, user_uuid: str, server_uuids: list[str]) -> bool: ...
    def read_file(self, server_uuid: str, path: str, *, download: bool = False) -> bytes: ...
    def list_directory(self, server_uuid: str, directory: str = "/") -> list[Document]: ...
    def rename(self, server_uuid: str, root: str, files: list[dict[str, str]]) -> None: ...
    def copy(self, server_uuid: str, location: str) -> None: ...
    def write_file(self, server_uuid: str, path: str, content: bytes) -> None: ...
    def create_directory(self, server_uuid: str, name: str, path: str = "/") -> None: ...
    def delete_files(self, server_uuid: str, root: str, files: list[str]) -> None: ...
    def compress(self, server_uuid: str, root: str, files: list[str]) -> Document: ...
    def decompress(self, server_uuid: str, root: str, file: str) -> None: ...
    def chmod(self, server_uuid: str, root: str, files: list[dict[str, str]]) -> None: ...
    def list_pulls(self, server_uuid: str) -> list[Document]: ...
    def pull(
        self,
        server_uuid: str,
        url: str,
        *,
        root: str = "/",
        file_name: str | None = None,
        use_header: bool = False,
        foreground: bool = False,
    ) -> Document: ...
    def cancel_pull(self, server_uuid: str, download_id: str) -> None: ...
    def create_backup(
        self, server_uuid: str, backup_uuid: str, *, adapter: str = "wings", ignore: str = ""
    ) -> None: ...
    def restore_backup(
        self,
        server_uuid: str,
        backup_uuid: str,
        *,
        adapter: str = "wings",
        truncate_directory: bool = False,
        download_url: str | None = None,
    ) -> None: ...
    def delete_backup(self, server_uuid: str, backup_uuid: str) -> None: ...


class NodeAgentFactory(Protocol):
    """Builds the Wings client of one node (``bootstrap.node_agent``)."""

    def __call__(self, node_id: str, url: str, token: str, *, verify_tls: bool = True) -> NodeAgent: ...


# The Wings client of a node, with its decrypted token: the one way services reach a node.
AgentFor = Callable[["Node"], "NodeAgent"]
# A tenant's effective quotas (``mamba.services.quotas.effective_quotas`` with its sources bound).
QuotasOf = Callable[[str], "Quotas"]


class HostResolver(Protocol):
    """Every address a host name resolves to (``files/pull`` checks each one is public).
    An unknown name is an empty list, not an error."""

    def resolve(self, host: str, port: int) -> list[str]: ...


class TokenCipher(Protocol):
    """Encrypts node tokens at rest (``KmsTokenCipher``)."""

    def encrypt(self, plaintext: str, context: dict[str, str]) -> str: ...
    def decrypt(self, ciphertext: str, context: dict[str, str]) -> str: ...


class ServerRepository(Protocol):
    """``DynamoServerRepository``."""

    def page_of_tenant(self, tenant_id: str, page: PageRequest, status: str | None = None) -> Page[Server]: ...
    def add(self, server: Server) -> None: ...
    def get(self, server_uuid: str) -> Server: ...
    def save(self, server: Server) -> None: ...
    def delete(self, server_uuid: str) -> None: ...
    def on_node(self, node_id: str) -> list[Server]: ...
    def page_on_node(self, node_id: str, page: int, per_page: int) -> tuple[list[Server], int]: ...
    def of_tenant(self, tenant_id: str) -> list[Server]: ...
    def add_activity(self, entries: list[ActivityEntry]) -> int: ...
    def activity(self, server_uuid: str, limit: int = 100) -> list[ActivityEntry]: ...


class NodeRepository(Protocol):
    """``DynamoNodeRepository``: nodes, with their Wings token encrypted at rest."""

    def add(self, node: Node, token: str) -> None: ...
    def get(self, node_id: str) -> Node: ...
    def list(self, limit: int = ..., cursor: str | None = None) -> tuple[list[Node], str | None]: ...
    def update(self, node: Node) -> None: ...
    def delete(self, node_id: str) -> None: ...
    def find_by_token_id(self, token_id: str) -> Node | None: ...
    def token(self, node: Node) -> str: ...
    def rotate_token(self, node_id: str, token_id: str, token: str, now: str) -> Node: ...


class AllocationRepository(Protocol):
    """``DynamoAllocationRepository``."""

    def add_many(self, allocations: list[Allocation]) -> AllocationResult: ...
    def get(self, node_id: str, ip: str, port: int) -> Allocation: ...
    def list(
        self, node_id: str, limit: int = ..., cursor: str | None = None
    ) -> tuple[list[Allocation], str | None]: ...
    def delete(self, node_id: str, ip: str, port: int) -> None: ...
    def assign(self, node_id: str, ip: str, port: int, server_id: str) -> None: ...
    def release(self, node_id: str, ip: str, port: int, server_id: str) -> None: ...
    def set_notes(self, node_id: str, ip: str, port: int, server_id: str, notes: str | None) -> Allocation:
        """The notes of an allocation ``server_id`` holds (None clears them). Raises NotFoundError
        when it does not exist or another server (or none) holds it."""


class BlueprintRepository(Protocol):
    """``DynamoBlueprintRepository``."""

    def add(self, blueprint: Blueprint) -> None: ...
    def get(self, blueprint_id: str) -> Blueprint: ...
    def list(self, limit: int = ..., cursor: str | None = None) -> tuple[list[Blueprint], str | None]: ...
    def save(self, blueprint: Blueprint) -> None: ...
    def usage(self, blueprint_ids: Sequence[str]) -> dict[str, int]: ...
    def delete(self, blueprint_id: str) -> None: ...


class BackupRepository(Protocol):
    """``DynamoBackupRepository``: backups, the per-server running lock and per-tenant usage."""

    def add_running(self, backup: Backup) -> None: ...
    def running_lock(self, server_uuid: str) -> str | None: ...
    def release_lock(self, server_uuid: str, backup_uuid: str) -> None: ...
    def get(self, backup_uuid: str) -> Backup: ...
    def save(self, backup: Backup, expected_status: str | None = None) -> None: ...
    def set_operation(self, backup_uuid: str, operation_id: str) -> None: ...
    def delete(self, backup_uuid: str) -> None: ...
    def of_server(self, server_uuid: str) -> list[Backup]: ...
    def of_tenant(self, tenant_id: str) -> list[Backup]: ...
    def usage(self, tenant_id: str) -> int: ...
    def rotation(self, tenant_id: str) -> bool: ...
    def set_rotation(self, tenant_id: str, rotate: bool) -> None: ...
    def count(self, backup: Backup, counted: bool) -> bool: ...
    def set_usage(self, tenant_id: str, usage_bytes: int, now: str) -> None: ...
    def tenants_with_usage(self) -> list[str]: ...


class BackupStore(Protocol):
    """The backup bucket (``S3BackupStore``): multipart uploads by presigned URL, sizes, deletes.
    Never reads or writes an object's body."""

    bucket: str

    def create_upload(self, key: str) -> str: ...
    def part_urls(self, key: str, upload_id: str, parts: int, lifetimes: list[int] | None = None) -> list[str]: ...
    def listed_parts(self, key: str, upload_id: str) -> list[tuple[int, str]]: ...
    def complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> bool: ...
    def abort(self, key: str, upload_id: str) -> None: ...
    def abort_all(self, key: str) -> int: ...
    def size(self, key: str) -> int | None: ...
    def delete(self, key: str) -> None: ...
    def download_url(self, key: str, filename: str | None = None) -> str: ...
    def sizes_under(self, prefix: str) -> dict[str, int]: ...


class BillingRepository(Protocol):
    """``DynamoBillingRepository``: plans, tenants' billing state, Stripe events, usage and credits."""

    def add_plan(self, plan: Plan) -> None: ...
    def save_plan(self, current: Plan, updated: Plan) -> None: ...
    def get_plan(self, plan_id: str) -> Plan: ...
    def list_plans(self, page: PageRequest) -> Page[Plan]: ...
    def plans_by_price(self, price_ids: tuple[str, ...]) -> dict[str, Plan]: ...
    def get_state(self, tenant_id: str) -> BillingState: ...
    def save_state(self, state: BillingState, *, dunning_due_at: int | None) -> None: ...
    def set_billing_state(self, tenant_id: str, billing_state: str) -> None: ...
    def dunning_due(self, now: int) -> list[str]: ...
    def link_customer(self, tenant_id: str, customer_id: str) -> None: ...
    def tenant_of_customer(self, customer_id: str) -> str | None: ...
    def claim_event(self, event_id: str, event_type: str, received_at: str) -> bool: ...
    def event_processed(self, event_id: str) -> None: ...
    def release_event(self, event_id: str) -> None: ...
    def event_status(self, event_id: str) -> str | None: ...
    def claim_notice(self, tenant_id: str, notice_key: str, now_iso: str, ttl_seconds: int = ...) -> bool: ...
    def release_notice(self, tenant_id: str, notice_key: str) -> None: ...
    def record_usage(self, row: UsageRow) -> UsageRow: ...
    def unsent_usage(self, not_before: int, limit: int = 500) -> list[UsageRow]: ...
    def usage_sent(self, row: UsageRow, sent_at: str) -> None: ...
    def usage_failed(self, row: UsageRow, error: str) -> None: ...
    def usage_between(self, tenant_id: str, start_hour: int, end_hour: int) -> list[UsageRow]: ...
    def observe_run(self, server_uuid: str, tenant_id: str, memory_mb: int, running: bool, at: int) -> None: ...
    def runs(self, server_uuid: str, start: int, end: int) -> list[tuple[int, int | None]]: ...
    def tenant_ids(self) -> list[str]: ...
    def add_credit(self, entry: CreditEntry) -> None: ...
    def credit_balances(self, tenant_id: str) -> dict[str, int]: ...
    def list_credits(self, tenant_id: str, page: PageRequest) -> Page[CreditEntry]: ...


class PaymentGateway(Protocol):
    """Stripe (``mamba.adapters.stripe_client.StripeGateway``). Raises DependencyUnavailableError
    when Stripe cannot be reached and BillingRejectedError when it refuses."""

    def create_customer(self, tenant_id: str, name: str, email: str | None) -> str: ...
    def credit_customer_balance(
        self, customer_id: str, amount_cents: int, currency: str, description: str, idempotency_key: str
    ) -> str: ...
    def retrieve_subscription(self, subscription_id: str) -> SubscriptionFacts: ...
    def retrieve_price(self, price_id: str) -> PriceFacts:
        """The price as Stripe holds it. Raises NotFoundError when the account has no such price."""
        ...

    def customer_has_payment_method(self, customer_id: str) -> bool: ...
    def create_checkout_session(
        self,
        *,
        customer_id: str,
        tenant_id: str,
        price_id: str,
        metered_price_ids: tuple[str, ...],
        success_url: str,
        cancel_url: str,
    ) -> tuple[str, str]: ...
    def create_credit_checkout(
        self,
        *,
        customer_id: str,
        tenant_id: str,
        amount_cents: int,
        currency: str,
        success_url: str,
        cancel_url: str,
    ) -> tuple[str, str]: ...
    def retrieve_checkout_session(self, session_id: str) -> Document: ...
    def create_portal_session(
        self, customer_id: str, return_url: str, flow: str | None = None, subscription_id: str | None = None
    ) -> str: ...
    def list_invoices(
        self, customer_id: str, limit: int, starting_after: str | None
    ) -> tuple[list[Document], bool]: ...
    def send_meter_event(
        self, event_name: str, customer_id: str, value: str, identifier: str, timestamp: int
    ) -> None: ...


# Sends a verified Stripe event's raw body to the events queue (SQS).
EventQueue = Callable[[str], None]


class WebhookVerifier(Protocol):
    """Checks a Stripe webhook's signature over the raw body (``stripe_client.signature_valid``);
    several secrets allow rolling one."""

    def __call__(self, payload: bytes, signature: str, secrets: tuple[str, ...], tolerance: int) -> bool: ...


class AuditLog(Protocol):
    """``DynamoAuditLog``: append-only audit entries (``mamba.services.audit``)."""

    def append(self, entry: AuditEntry) -> None:
        """Write a new entry. Raises ConflictError when an entry with its key exists
        (entries are never overwritten) and DependencyUnavailableError."""

    def list(
        self, tenant_id: str | None, filters: AuditFilter, limit: int, cursor: str | None, security: bool = False
    ) -> AuditPage:
        """One partition's entries (a tenant's, the platform's, or with ``security`` the
        security log's), newest first; one Query per page, so a filtered page may hold fewer
        than ``limit`` entries while ``next_cursor`` is set. Raises ValidationError for a bad
        cursor."""


class IdentityRepository(Protocol):
    """The guard's one read per request (``DynamoIdentityRepository``): the user, and for tenant
    routes the membership and the tenant, and for API keys the key, in one BatchGetItem; for a read
    of one server's resource (``server_id``) the server too, kept for the repository's next get."""

    def load(
        self,
        user_id: str,
        tenant_id: str | None,
        key_id: str | None = None,
        *,
        read_ahead: Mapping[str, str] | None = None,
    ) -> AuthFacts: ...


class KeyUseRecorder(Protocol):
    """Writes an API key's last use, at most once per ``min_interval`` seconds (``DynamoApiKeyRepository``)."""

    def touch(self, key_id: str, epoch: int, source_ip: str, min_interval: int) -> None: ...


class ServerLocks(Protocol):
    """One lifecycle operation per server (``DynamoServerLocks``)."""

    def acquire(
        self, server_uuid: str, operation_id: str, operation_type: str, *, now: str, now_epoch: int, seconds: int
    ) -> None: ...
    def holder(self, server_uuid: str) -> tuple[str, str] | None: ...
    def release(self, server_uuid: str, operation_id: str) -> None: ...


class ServerNetworkStore(Protocol):
    """``DynamoServerNetworkStore``: a server's extra ports, primary port and image, each change
    conditioned on what the caller read (ConflictError when the server changed meanwhile)."""

    def add_allocation(self, server: Server, ip: str, port: int, now: str) -> None:
        """Hand the free allocation to the server as an extra port (ConflictError if taken)."""

    def remove_allocation(self, server: Server, ip: str, port: int, now: str) -> None:
        """Take an extra port from the server and free it, notes and all."""

    def set_primary(self, server: Server, ip: str, port: int, now: str) -> None:
        """Swap one of the server's extra ports in as its primary one."""

    def set_image(self, server: Server, image: str, now: str) -> None: ...


class ServerLifecycleStore(Protocol):
    """Conditional status, build and suspension writes on a server (``DynamoServerLifecycleStore``)."""

    def set_status(
        self, server_uuid: str, status: str, expected: Iterable[str], *, now: str, reason: str | None = None
    ) -> None: ...
    def set_suspension(
        self, server_uuid: str, status: str, expected: Iterable[str], *, by: str | None, now: str
    ) -> None: ...
    def suspended_by(self, server_uuid: str) -> str | None: ...
    def set_build(
        self,
        server_uuid: str,
        limits: Limits,
        expected: Iterable[str],
        *,
        now: str,
        environment: dict[str, object] | None = None,
    ) -> None: ...
    def set_profile(
        self,
        server_uuid: str,
        *,
        name: str | None,
        description: str | None,
        now: str,
        feature_limits: FeatureLimits | None = None,
        startup: str | None = None,
    ) -> None:
        """The panel's own values (feature limits), and the startup command Wings reads at the
        server's next start (its pre-flight sync); None leaves one as it is."""

    def remove(self, server_uuid: str) -> int: ...
    def record_observations(self, rows: list[ObservedServer], *, now: str) -> int: ...
    def utilization(self, server_uuid: str) -> tuple[Document | None, str | None]: ...


class PlacementStore(Protocol):
    """Node loads, free allocations, tenant usage and plan quotas, and the create transaction
    (``DynamoPlacementStore``)."""

    def node_loads(self) -> list[NodeLoad]: ...
    def free_allocations(self, node_id: str, limit: int = 25) -> list[Allocation]: ...
    def guard(self, tenant_id: str) -> TenantGuard: ...
    def guard_version(self, tenant_id: str) -> int: ...
    def usage(self, tenant_id: str, guard: TenantGuard | None = None, exclude: str | None = None) -> Usage: ...
    def reserve(self, server: Server, guard: TenantGuard | int) -> None: ...
    def reserve_build(self, server: Server, guard: TenantGuard) -> None:
        """Take the tenant's guard for ``server``'s new limits (a build change); raises
        TenantServersChangedError when another create or build change committed first."""

    def release_build(self, server: Server) -> None:
        """Undo ``reserve_build(server, ...)``: the guard forgets that reservation of ``server``'s
        (new) limits, so a build change that never applied stops counting. Idempotent."""

    def unreserve(self, server: Server) -> None: ...
    def rearm(self, server: Server, previous: Server, guard: TenantGuard) -> None:
        """Put the ``failed`` ``previous`` back as ``server`` (provisioning) on its primary
        allocation, freeing the ports of ``previous`` it no longer uses; all or nothing. Raises
        AllocationTakenError, TenantServersChangedError, ConflictError (no longer failed)."""

    def plan_quotas(self, tenant_id: str) -> str | None: ...


class NodeHealthStore(Protocol):
    """Each node's last health check and its event history (``DynamoNodeHealthStore``)."""

    def get(self, node_id: str) -> NodeHealth | None: ...
    def save(self, health: NodeHealth) -> None: ...
    def add_event(self, event: NodeEvent) -> None: ...
    def events(self, node_id: str, limit: int = 50) -> list[NodeEvent]: ...
    def health_of(self, node_ids: list[str]) -> dict[str, NodeHealth]: ...


class FleetReader(Protocol):
    """``DynamoFleetReader``: servers across tenants for the platform admin."""

    def servers(self, wanted: ServerFilter, page: PageRequest) -> Page[FleetServer]:
        """One page (bounded read, possibly short while ``next_cursor`` leads on); never a Scan."""

    def server(self, server_uuid: str) -> FleetServer:
        """One server with its tenant's and node's names (a GetItem and a BatchGetItem).
        Raises NotFoundError."""


class EventPublisher(Protocol):
    """Publishes notification events (``mamba.domain.events``) to the events queue
    (``SqsEventPublisher``). It only queues: no delivery ever runs on the caller's path. A
    repeated event (same id) is published again and dropped by the consumer's dedupe."""

    def publish(self, events: Sequence[Event]) -> None: ...


class NotificationStore(Protocol):
    """In-app notifications, preferences and the delivery claims of the events consumer
    (``DynamoNotificationStore``, docs/notifications.md)."""

    def bindings(self, tenant_id: str) -> list[Binding]:
        """Every membership of the tenant (all pages)."""

    def recipients(self, user_ids: Sequence[str]) -> dict[str, Recipient]:
        """The accounts of these ids that still exist."""

    def platform_admins(self) -> list[Recipient]:
        """Every active platform admin."""

    def preferences(self, user_id: str) -> Preferences:
        """The user's choices (defaults when they never chose)."""

    def save_preferences(self, user_id: str, preferences: Preferences, at: str) -> None: ...

    def add(self, user_id: str, notification: Notification, expires_at: int) -> bool:
        """Stores it unread and counts it, atomically; False (and nothing written) when this
        user already has a notification of this event id."""

    def listing(self, user_id: str, page: PageRequest, *, unread_only: bool) -> Page[Notification]:
        """Newest first; one Query per page."""

    def mark_read(self, user_id: str, ids: Sequence[str], at: str) -> int:
        """Marks these of the user's unread notifications read; returns how many changed."""

    def mark_all_read(self, user_id: str, at: str) -> int: ...

    def claim_mail(self, event_id: str, user_id: str, expires_at: int) -> bool:
        """Claims "this user is mailed this event"; False when already claimed."""

    def release_mail(self, event_id: str, user_id: str) -> None:
        """Gives a claim back after a failed send, so the retry mails."""

    def forget(self, user_id: str) -> int:
        """Deletes the user's notifications and preferences (account deletion); how many items."""


class DeadLetterQueue(Protocol):
    """The Stripe events dead-letter queue (``SqsDeadLetterQueue``).

    ``peek`` reads without consuming (the messages stay visible); ``redrive`` moves every
    message back to the source queue, each sent before it is deleted (a crash in between
    leaves a duplicate, which the consumer's per-event claim absorbs)."""

    def depth(self) -> int: ...
    def peek(self, limit: int) -> list[DeadLetterMessage]: ...
    def redrive(self, limit: int) -> int: ...


class FleetStats(Protocol):
    """``DynamoFleetStats``: the overview's reads (≤ 3 DynamoDB calls) and its counters."""

    def read(self, since: str) -> FleetCounts: ...
    def refresh(self, now: str) -> None: ...
    def record_reconcile(self, summary: dict[str, object]) -> None: ...


class DeadLetterErrors(Protocol):
    """``DynamoDeadLetterErrors``: the first error each failed Stripe event met."""

    def record_first(self, event_id: str, error: str, at: str, now_epoch: int) -> None: ...
    def first_errors(self, event_ids: list[str]) -> dict[str, str]: ...


class TenantDataStore(Protocol):
    """``DynamoTenantData``: a tenant's own records, for the retention job and account deletion
    (``mamba.services.retention``; docs/tenancy.md "Deleting a tenant's data")."""

    def open_operations(self, tenant_id: str, since: str) -> int:
        """How many of the tenant's operations created at or after ``since`` (ISO time) are
        pending or running (one Query)."""

    def purge(self, tenant_id: str, deleted_at: str, budget: int) -> Purged:
        """Delete every record of the tenant but the kept ones (audit log, credit ledger), at
        most ``budget`` per call, then its profile, with a tombstone and the fleet count in one
        transaction (``finished``). Idempotent: a call that stopped half-way (or at its budget)
        is continued by the next one."""


class TaskTokenStore(Protocol):
    """``DynamoTaskTokenStore``: the task token of the workflow waiting on ``subject``."""

    def park(self, subject: str, token: str, now: int, expires_at: int) -> None: ...
    def token(self, subject: str) -> str | None: ...
    def forget(self, subject: str, token: str) -> None:
        """Delete the parked token if it is still ``token``."""


class TaskCallbacks(Protocol):
    """``SfnWorkflows``: resume a task waiting with ``.waitForTaskToken``. Each answers False when
    the task no longer waits (timed out, resumed already); DependencyUnavailableError otherwise."""

    def succeed_task(self, token: str, output: dict[str, object]) -> bool: ...
    def fail_task(self, token: str, error: str, cause: str) -> bool: ...


class PasskeyStore(Protocol):
    """``DynamoPasskeyStore``: an account's passkeys (``USER#<uid>/PASSKEY#<pid>``), counted on
    the user item, and the ceremonies' one-time challenges (docs/passkeys.md)."""

    def add(self, passkey: Passkey, limit: int) -> None:
        """Store a new passkey and count it on the user, in one transaction. Raises ConflictError
        (this credential is registered already), PasskeyLimitError (``limit`` reached),
        NotFoundError (no such user)."""

    def list(self, user_id: str) -> list[Passkey]:
        """The user's passkeys, oldest first (one Query; at most MAX_PASSKEYS)."""

    def get(self, user_id: str, passkey_id: str) -> Passkey | None: ...
    def rename(self, user_id: str, passkey_id: str, name: str) -> Passkey:
        """Raises NotFoundError."""

    def delete(self, user_id: str, passkey_id: str) -> bool:
        """Delete and uncount it in one transaction; False when it is not there."""

    def delete_all(self, user_id: str) -> int:
        """Delete every passkey of the user (an admin's 2FA reset); returns how many went."""

    def record_use(self, passkey: Passkey, sign_count: int, backed_up: bool, at: str) -> bool:
        """Store the new counter, backup state and time of use, if the counter is still the one
        ``passkey`` was read with; False otherwise (two sign-ins raced with one counter)."""

    def put_challenge(self, challenge: Challenge) -> None: ...
    def take_challenge(self, challenge_id: str) -> Challenge | None:
        """Delete the challenge and return it; None when it was never made or is used already."""


class PteroIds(Protocol):
    """``DynamoPteroIds``: the integer ids Pterodactyl's clients use (an atomic counter per kind,
    kept next to the object), external ids and server identifiers. Every look-up is one read."""

    def number(self, kind: str, ref: str, scope: str | None = None) -> IdRef:
        """The object's integer id, handed out on first use (a server's also claims its identifier)."""

    def numbers(self, kind: str, refs: Mapping[str, str | None]) -> dict[str, IdRef]:
        """``number`` of many (ref → scope) at once: one BatchGetItem, plus a claim per new one."""

    def by_number(self, kind: str, number: int) -> IdRef | None: ...
    def by_external(self, kind: str, external_id: str) -> IdRef | None: ...
    def by_identifier(self, identifier: str) -> IdRef | None:
        """A server by its 8-character identifier."""

    def set_external(self, ref: IdRef, external_id: str | None) -> IdRef:
        """Give (or take away, None) the object's external id. Raises ConflictError when another
        object of the kind holds it."""

    def forget(self, ref: IdRef) -> None:
        """Drop every side of the object's id (it was deleted); its number is never reused."""


class PteroRecords(Protocol):
    """``DynamoPteroRecords``: what a Pterodactyl object carries that its Mamba object has no field
    for (a location's long name, a user's username and names), one record of plain values per
    object, keyed by kind and ref. Reads are one GetItem, a kind's whole list one Query."""

    def get(self, kind: str, ref: str) -> dict[str, Any] | None: ...
    def get_many(self, kind: str, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The records that exist among ``refs`` (one BatchGetItem per 100)."""

    def list(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every record of the kind, by ref (one Query; kinds with few records only)."""

    def add(self, kind: str, ref: str, values: Mapping[str, Any]) -> None:
        """Create the record; raises ConflictError when it exists (a unique name's claim)."""

    def put(self, kind: str, ref: str, values: Mapping[str, Any]) -> None:
        """Create or replace the record."""

    def delete(self, kind: str, ref: str) -> None:
        """Remove the record; a missing one is not an error."""
