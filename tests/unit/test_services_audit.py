"""The audit service and the route wrapper's audit decisions, over an in-memory log."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from mamba import web
from mamba.domain.audit import AuditEntry, AuditFilter
from mamba.domain.errors import ForbiddenError, NotFoundError, UnauthorizedError, ValidationError
from mamba.schemas.audit import AuditEntryOut
from mamba.services import audit
from mamba.web_audit import _outcome
from tests.fakes import FakeAuditLog


def test_record_appends_an_entry_with_its_fields():
    log = FakeAuditLog()

    entry = audit.record(
        log,
        action="login",
        result="denied",
        actor_id="usr_1",
        via="token",
        ip="",
        details={"reason": "bad_password"},
        now=lambda: "2026-11-25T10:00:00.000000Z",
    )

    assert entry is not None and log.entries == [entry]
    assert (entry.tenant_id, entry.ip, entry.details) == (None, None, {"reason": "bad_password"})
    assert AuditEntryOut.model_validate(entry, from_attributes=True, extra="ignore").model_dump(mode="json")[
        "actor"
    ] == {
        "user_id": "usr_1",
        "via": "token",
    }


def test_record_returns_none_and_logs_the_whole_entry_when_the_write_fails():
    import io
    import json

    from mamba.observability import logger

    buffer = io.StringIO()
    logger.registered_handler.redirect = buffer
    try:
        entry = audit.record(FakeAuditLog(fail=True), action="login", result="success", actor_id="usr_1")
    finally:
        logger.registered_handler.redirect = None

    assert entry is None
    [line] = [json.loads(x) for x in buffer.getvalue().splitlines()]
    assert line["level"] == "ERROR" and line["audit_write_failed"] is True
    assert (line["audit_entry"]["action"], line["audit_entry"]["actor_id"]) == ("login", "usr_1")


def test_record_refuses_an_unknown_result():
    with pytest.raises(ValueError):
        audit.record(FakeAuditLog(), action="x", result="maybe")


def test_stamp_is_fixed_width_so_keys_sort_by_time():
    whole = audit.stamp(datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC))
    later = audit.stamp(datetime(2026, 11, 25, 10, 0, 0, 1, tzinfo=UTC))

    assert whole == "2026-11-25T10:00:00.000000Z" and len(whole) == len(later) and whole < later


@pytest.mark.parametrize(
    ("kwargs", "ok"),
    [
        ({"result": "denied", "since": "2026-11-25", "until": "2026-11-26T00:00:00+01:00"}, True),
        ({"result": "maybe"}, False),
        ({"since": "soon"}, False),
        ({"since": "2026-11-26", "until": "2026-11-25"}, False),
    ],
)
def test_make_filter_validates(kwargs, ok):
    if ok:
        made = audit.make_filter(**kwargs)
        assert made.since == "2026-11-25T00:00:00.000000Z" and made.until == "2026-11-25T23:00:00.000000Z"
    else:
        with pytest.raises(ValidationError):
            audit.make_filter(**kwargs)


def test_listing_clamps_the_limit_and_scopes_to_the_verified_tenant():
    from mamba.auth.context import TenantContext

    log = FakeAuditLog()
    tenant = TenantContext(tenant_id="tn_a", role="owner", permissions=frozenset())

    for n in range(audit.MAX_LIMIT + 1):
        at = f"2026-11-25T10:00:00.{n:06d}Z"
        for tenant_id in ("tn_a", "tn_b", None):
            log.append(AuditEntry(id=f"au_{n}", at=at, action="x", result="success", tenant_id=tenant_id))

    tenant_page = audit.list_tenant_entries(log, tenant, AuditFilter(), limit=1000)
    platform_page = audit.list_platform_entries(log, AuditFilter(), limit=0)

    assert len(tenant_page.items) == audit.MAX_LIMIT and tenant_page.next_cursor
    assert {e.tenant_id for e in tenant_page.items} == {"tn_a"}
    assert len(platform_page.items) == audit.DEFAULT_LIMIT
    assert {e.tenant_id for e in platform_page.items} == {None}


def _spec(method: str) -> web.RouteSpec:
    return web.RouteSpec(path="/v1/tenants/{tenant_id}/x", method=method, permission="servers.read", summary="")


@pytest.mark.parametrize(
    ("method", "stage", "error", "result", "expected"),
    [
        ("GET", "view", None, {}, None),
        ("POST", "view", None, {}, ("success", 200)),
        ("POST", "view", None, SimpleNamespace(status_code=409), ("error", 409)),
        ("GET", "guard", UnauthorizedError("no"), None, ("denied", 401)),
        ("GET", "guard", NotFoundError("no"), None, ("denied", 404)),
        ("GET", "guard", ValidationError("no"), None, None),
        ("GET", "view", NotFoundError("no"), None, None),
        ("DELETE", "view", ForbiddenError("no"), None, ("denied", 403)),
        ("DELETE", "view", NotFoundError("no"), None, ("error", 404)),
        ("PATCH", "guard", ValidationError("no"), None, ("error", 400)),
    ],
)
def test_outcome_records_mutations_and_guard_denials_only(method, stage, error, result, expected):
    assert _outcome(_spec(method), stage, error, result) == expected
