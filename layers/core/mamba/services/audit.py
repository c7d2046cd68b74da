"""The audit log: who did what, to what, in which tenant, with which result.

Entries are append-only. ``AuditLog.append`` writes each one with a put conditioned on
the key not existing, and no code path updates or deletes one. A tenant's entries sit
in its partition (``TENANT#<tid>``); account and admin actions go to ``PLATFORM``.

Who writes:

* the route wrapper (``mamba.web`` → ``mamba.web_audit``), for every mutation of a
  non-public route and every request the guard denies;
* the auth flows (login success and failure, password reset, ...), which call
  ``record`` themselves because their routes are public.

``record`` never raises. An entry that cannot be written is logged at ERROR with all of
its fields (``audit_write_failed``), so the log stream holds it and an alarm can fire;
the request it describes goes on. Failing the request instead would not undo a mutation
that has already happened, and a client retrying a "failed" mutation would repeat it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from mamba.auth.context import TenantContext
from mamba.domain.audit import AuditEntry, AuditFilter, AuditPage
from mamba.domain.clock import new_id, utcnow
from mamba.domain.errors import ValidationError
from mamba.observability import logger
from mamba.ports import AuditLog

__all__ = ["AuditLog"]

SUCCESS = "success"
DENIED = "denied"
ERROR = "error"
RESULTS = (SUCCESS, DENIED, ERROR)
MAX_LIMIT = 100
DEFAULT_LIMIT = 50


def stamp(moment: datetime) -> str:
    """The fixed-width form entries are keyed by: ``2026-11-25T10:00:00.000000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now() -> str:
    return stamp(utcnow())


def record(
    log: AuditLog,
    *,
    action: str,
    result: str,
    tenant_id: str | None = None,
    actor_id: str | None = None,
    via: str | None = None,
    target: str | None = None,
    ip: str | None = None,
    request_id: str | None = None,
    permission: str | None = None,
    method: str | None = None,
    status: int | None = None,
    error_code: str | None = None,
    details: dict[str, Any] | None = None,
    security: bool = False,
    now: Callable[[], str] = _now,
) -> AuditEntry | None:
    """Append one entry; the entry written, or None when it could not be written.

    ``result`` is ``success``, ``denied`` or ``error``; ``tenant_id=None`` files it under
    the platform log. ``security=True`` files it under the platform *security* log
    instead, whatever ``tenant_id``: a request refused before its caller was proven (a bad
    token, a wrong SFTP password) names a tenant only because the caller typed it, and
    must not be able to write into that tenant's log (issue 10, finding 7); the named
    tenant stays in the entry for the admin who reads it. Never raises for a failed write
    (see the module docstring); raises ValueError for a ``result`` outside ``RESULTS``.
    """
    if result not in RESULTS:
        raise ValueError(f"audit result must be one of {RESULTS}, not {result!r}")
    details = dict(details or {})
    if security and tenant_id is not None:
        details.setdefault("tenant_id", tenant_id)
        tenant_id = None
    entry = AuditEntry(
        id=new_id("aud"),
        at=now(),
        action=action,
        result=result,
        tenant_id=tenant_id,
        actor_id=actor_id,
        actor_via=via,
        target=target,
        permission=permission,
        method=method,
        status=status,
        error_code=error_code,
        ip=ip or None,
        request_id=request_id or None,
        details=details,
        security=security,
    )
    try:
        log.append(entry)
    except Exception:  # noqa: BLE001 - the audited request must not fail for its audit entry
        logger.exception("audit write failed", extra={"audit_write_failed": True, "audit_entry": asdict(entry)})
        return None
    return entry


def parse_time(value: str | None, field_name: str) -> str | None:
    """An ISO-8601 time from a query string as the fixed-width key form (naive means UTC).
    Raises ValidationError."""
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationError(
            f"{field_name} is not an ISO-8601 time.", {"fields": [{"field": field_name, "message": "not a time"}]}
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return stamp(moment)


def make_filter(
    *,
    action: str | None = None,
    actor: str | None = None,
    result: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> AuditFilter:
    """Raises ValidationError for an unknown result, a bad time or ``from`` after ``to``."""
    if result is not None and result not in RESULTS:
        raise ValidationError(
            f"result must be one of {', '.join(RESULTS)}.", {"fields": [{"field": "result", "message": "unknown"}]}
        )
    start, end = parse_time(since, "from"), parse_time(until, "to")
    if start and end and start > end:
        raise ValidationError("from is after to.", {"fields": [{"field": "from", "message": "after to"}]})
    return AuditFilter(action=action or None, actor_id=actor or None, result=result, since=start, until=end)


def _limit(limit: int | None) -> int:
    return max(1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))


def list_tenant_entries(
    log: AuditLog, tenant: TenantContext, filters: AuditFilter, *, limit: int | None = None, cursor: str | None = None
) -> AuditPage:
    """The verified tenant's entries, newest first. Raises ValidationError (cursor)."""
    return log.list(tenant.tenant_id, filters, _limit(limit), cursor)


def list_platform_entries(
    log: AuditLog,
    filters: AuditFilter,
    *,
    tenant_id: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    security: bool = False,
) -> AuditPage:
    """For platform admins: the platform log, the security log, or any one tenant's.
    Raises ValidationError (cursor)."""
    return log.list(None if security else tenant_id, filters, _limit(limit), cursor, security)
