"""Usage metering (docs/billing.md "Usage metering").

Every hour the schedule meters the hour that just ended:

* **RAM GB-hours** of each server: the seconds of the hour it actually ran (the run
  intervals opened and closed from the reconciled status, ``observe``) times its memory.
* **Backup GB-hours** of each tenant: its backup storage (the backups counter) for the hour.

Each value is written to the usage ledger once (a conditional put: a re-run of the same hour
finds the first run's row), then sent to Stripe as a meter event whose ``identifier`` is
``{server}:{metric}:{hour}``, so a re-run or a retry never bills twice. Rows Stripe did not
accept stay on the ``USAGE_UNSENT`` index and are retried on every run while they are inside
Stripe's 35-day window. The run right after a billing period's last hour sends that hour, well
inside the invoice's 1-hour finalization grace period.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mamba.domain import billing as b
from mamba.domain.clock import iso, utcnow
from mamba.domain.errors import NotFoundError
from mamba.observability import logger
from mamba.services.billing import BillingPorts, free_plan, get_plan

RAM = "ram_gb_hours"
BACKUPS = "backup_gb_hours"
BACKUP_SUBJECT = "backups"
GIB = 1024**3
# Retry rows up to this age: Stripe refuses meter events older than 35 days.
RETRY_WINDOW = b.METER_WINDOW_SECONDS - 3600


def observe(ports: BillingPorts, servers: Iterable[Any], at: int) -> int:
    """Open or close each server's run interval from its (reconciled) status. The reconcile
    schedule calls this after writing statuses; the metering run calls it too."""
    count = 0
    for server in servers:
        ports.repo.observe_run(server.uuid, server.tenant_id, server.limits.memory_mb, server.status == "running", at)
        count += 1
    return count


def observe_nodes(
    ports: BillingPorts, node_ids: Iterable[str], servers_on_node: Callable[[str], list[Any]], at: int
) -> int:
    """``observe`` every server of the reconciled nodes (called by the reconcile schedule right
    after it wrote the statuses, so run intervals have its minute precision). Never raises:
    a metering failure must not fail the reconcile; the hourly run observes again."""
    count = 0
    for node_id in node_ids:
        try:
            count += observe(ports, servers_on_node(node_id), at)
        except Exception as exc:  # noqa: BLE001 - logged; the hourly metering run observes too
            logger.warning("run intervals not observed", extra={"node_id": node_id, "error": type(exc).__name__})
    return count


def meter_hour(
    ports: BillingPorts,
    hour: int,
    servers_of_tenant: Callable[[str], list[Any]],
    backup_bytes: Callable[[str], int],
    tenants: Iterable[str] | None = None,
) -> dict[str, int]:
    """Write the ledger rows of ``hour`` for every tenant (idempotent)."""
    repo = ports.repo
    written = {"rows": 0, "tenants": 0}
    for tenant_id in tenants if tenants is not None else repo.tenant_ids():
        written["tenants"] += 1
        state = repo.get_state(tenant_id)
        try:
            plan = get_plan(repo, state.plan_id, ports.free_quotas)
        except NotFoundError:
            plan = free_plan(repo, ports.free_quotas)
        rows: list[tuple[str, str, int, float]] = []
        for server in servers_of_tenant(tenant_id):
            seconds = b.seconds_in_hour(repo.runs(server.uuid, hour, hour + b.HOUR), hour)
            if seconds:
                rows.append((server.uuid, RAM, seconds, b.gb_hours(server.limits.memory_mb, seconds)))
        stored = backup_bytes(tenant_id)
        if stored:
            rows.append((BACKUP_SUBJECT, BACKUPS, b.HOUR, round(stored / GIB, 6)))
        for subject, metric, seconds, value in rows:
            # The tenant subject keeps "backups" rows of different tenants apart at Stripe.
            ident_subject = subject if subject != BACKUP_SUBJECT else f"{tenant_id}-backups"
            repo.record_usage(
                b.UsageRow(
                    tenant_id=tenant_id,
                    subject=subject,
                    metric=metric,
                    hour=hour,
                    value=b.format_value(value),
                    seconds=seconds,
                    identifier=b.meter_identifier(ident_subject, metric, hour),
                    event_name=plan.event_name(metric),
                    customer_id=state.customer_id,
                )
            )
            written["rows"] += 1
    return written


def flush(ports: BillingPorts, now: int) -> dict[str, int]:
    """Send every unsent billable row inside the 35-day window; a failure is retried next run."""
    sent = failed = 0
    for row in ports.repo.unsent_usage(not_before=now - RETRY_WINDOW):
        if not row.event_name or not row.customer_id:
            continue
        try:
            ports.stripe().send_meter_event(row.event_name, row.customer_id, row.value, row.identifier, row.hour)
        except Exception as exc:  # noqa: BLE001 - the row stays unsent; the next run retries it
            logger.warning("meter event not sent", extra={"identifier": row.identifier, "error": type(exc).__name__})
            ports.repo.usage_failed(row, type(exc).__name__)
            failed += 1
            continue
        ports.repo.usage_sent(row, iso(utcnow()))
        sent += 1
    return {"sent": sent, "failed": failed}


def run(
    ports: BillingPorts,
    now: int,
    all_servers: Callable[[], list[Any]],
    servers_of_tenant: Callable[[str], list[Any]],
    backup_bytes: Callable[[str], int],
    hour: int | None = None,
) -> dict[str, int]:
    """The hourly schedule: observe, meter the previous hour, send what is unsent.
    ``backup_bytes`` is the backups issue's storage counter of a tenant."""
    observe(ports, all_servers(), now)
    target = hour if hour is not None else b.hour_start(now) - b.HOUR
    metered = meter_hour(ports, target, servers_of_tenant, backup_bytes)
    return {"hour": target, **metered, **flush(ports, now)}
