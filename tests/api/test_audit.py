"""The audit log: written by the route wrapper for every mutation and denial, read through
/v1/tenants/{tenant_id}/audit and /v1/admin/audit, append-only in DynamoDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from chalice.test import Client

from local import gateway
from mamba import bootstrap, web
from mamba.domain.audit import AuditEntry
from mamba.domain.errors import ConflictError
from mamba.services import audit
from tests.api.security_world import SCRATCH, World, build_world, create_key

TENANT_A = SCRATCH.format(tenant_id="tn_a")


@pytest.fixture
def world(client) -> World:
    return build_world()


@pytest.fixture
def scratch(world) -> Iterator[Client]:
    gateway.install()
    with web.registry_scope():
        from tests.api.security_world import scratch_app

        with Client(scratch_app(), stage_name="test") as c:
            yield c


def _log(client, world: World, tenant: str = "tn_a", query: str = "", who: str = "alice") -> dict:
    response = client.http.get(f"/v1/tenants/{tenant}/audit{query}", headers=world.headers(who))
    assert response.status_code == 200, response.json_body
    return response.json_body


def _platform(client, world: World, query: str = "") -> dict:
    response = client.http.get(f"/v1/admin/audit{query}", headers=world.headers("root"))
    assert response.status_code == 200, response.json_body
    return response.json_body


def test_mutation_writes_one_entry_with_every_field_when_it_succeeds(client, world, scratch):
    # When alice creates something in tn_a
    response = scratch.http.post(f"{TENANT_A}/widgets", headers=world.headers("alice"), body="{}")
    assert response.status_code == 201

    # Then tn_a's log holds exactly one entry, with every field
    [entry] = _log(client, world)["items"]
    assert entry["action"] == "create_widget"
    assert entry["result"] == "success"
    assert entry["tenant_id"] == "tn_a"
    assert entry["actor"] == {"user_id": "usr_alice", "via": "token"}
    assert entry["target"] == "/v1/tenants/tn_a/scratch/widgets/wdg_1"
    assert entry["ip"] == "127.0.0.1"
    assert entry["request_id"] == response.headers["X-Request-Id"]
    assert (entry["method"], entry["status"], entry["permission"]) == ("POST", 201, "servers.create")
    assert entry["error_code"] is None and entry["at"].endswith("Z") and entry["id"].startswith("aud_")


def test_denied_write_writes_one_denied_entry(client, world, scratch):
    # When vic, a viewer, tries to power a server
    response = scratch.http.post(f"{TENANT_A}/servers/srv_1/power", headers=world.headers("vic"), body="{}")
    assert response.status_code == 403

    # Then one denied entry names him, the permission and the request
    [entry] = _log(client, world)["items"]
    assert (entry["result"], entry["status"], entry["error_code"]) == ("denied", 403, "FORBIDDEN")
    assert entry["actor"] == {"user_id": "usr_vic", "via": "token"}
    assert entry["details"] == {"permission": "servers.power"}
    assert entry["request_id"] == response.headers["X-Request-Id"]


def _security(client, world: World, query: str = "") -> list[dict]:
    return _platform(client, world, f"?log=security{query}")["items"]


@pytest.mark.parametrize(
    ("who", "status", "actor"),
    [("bob", 404, "usr_bob"), (None, 401, None)],
    ids=["member-of-another-tenant", "no-credentials"],
)
def test_anonymous_requests_cannot_write_a_tenant_audit_log(client, world, scratch, who, status, actor):
    # Given a caller without a credential, or a stranger to tn_a (issue 10, finding 7)
    headers = world.headers(who) if who else {}

    # When they send requests naming tn_a, a read and a write
    response = scratch.http.get(f"{TENANT_A}/servers/srv_1", headers=headers)
    written = scratch.http.post(f"{TENANT_A}/widgets", headers=headers, body="{}")

    # Then both are refused, and tn_a's log holds nothing they sent
    assert (response.status_code, written.status_code) == (status, status)
    assert _log(client, world)["items"] == []
    assert _log(client, world, tenant="tn_b", who="bob")["items"] == []
    # And the platform security log holds both, naming the tenant the caller typed
    entries = _security(client, world)
    assert [(e["action"], e["status"], e["result"]) for e in entries] == [
        ("create_widget", status, "denied"),
        ("read_server", status, "denied"),
    ]
    assert all(e["tenant_id"] is None and e["details"]["tenant_id"] == "tn_a" for e in entries)
    assert all(e["actor"]["user_id"] == actor for e in entries)


def test_denial_names_the_claimed_actor_as_unverified_when_the_key_is_wrong(client, world, scratch):
    created = create_key(client, world.headers("alice"), scopes=["servers.read"]).json_body
    forged = created["key"][:-6] + "AAAAAA"

    assert (
        scratch.http.get(f"{TENANT_A}/servers/srv_1", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    )

    # The forger is not alice: nothing in alice's tenant, the security log names the claim
    assert _log(client, world)["items"] == []
    [entry] = _security(client, world)
    assert entry["actor"] == {"user_id": "usr_alice", "via": "api_key"}
    assert entry["details"] == {"key_id": created["id"], "reason": "invalid", "verified": False, "tenant_id": "tn_a"}


def test_api_key_actor_is_recorded_with_its_key_id(client, world, scratch):
    created = create_key(client, world.headers("alice"), scopes=["servers.power"]).json_body

    scratch.http.post(
        f"{TENANT_A}/servers/srv_1/power", headers={"Authorization": f"Bearer {created['key']}"}, body="{}"
    )

    [entry] = _log(client, world)["items"]
    assert entry["actor"] == {"user_id": "usr_alice", "via": "api_key"}
    assert entry["details"] == {"key_id": created["id"]}


def test_successful_read_writes_nothing(client, world, scratch):
    assert scratch.http.get(f"{TENANT_A}/servers/srv_1", headers=world.headers("alice")).status_code == 200

    assert _log(client, world)["items"] == []


def test_public_route_writes_nothing(client, world, scratch):
    assert scratch.http.post("/scratch/public", body="{}").status_code == 200

    assert _platform(client, world)["items"] == []


def test_failed_mutation_is_recorded_as_an_error_when_the_view_fails(client, world, scratch):
    response = scratch.http.post(f"{TENANT_A}/broken", headers=world.headers("alice"), body="{}")

    assert response.status_code == 500
    [entry] = _log(client, world)["items"]
    assert (entry["result"], entry["status"], entry["error_code"]) == ("error", 500, "INTERNAL")


def test_failed_mutation_is_recorded_as_an_error_when_the_body_is_invalid(client, world):
    response = client.http.post("/v1/me/api-keys", headers=world.headers("alice"), body="[1]")

    assert response.status_code == 400
    [entry] = _platform(client, world)["items"]
    assert (entry["action"], entry["result"], entry["error_code"]) == ("create_api_key", "error", "VALIDATION_ERROR")


def test_account_action_goes_to_the_platform_log(client, world):
    created = create_key(client, world.headers("alice"), scopes=["servers.read"]).json_body

    [entry] = _platform(client, world)["items"]

    assert (entry["action"], entry["tenant_id"], entry["result"]) == ("create_api_key", None, "success")
    assert entry["target"] == f"/v1/me/api-keys/{created['id']}"
    assert created["key"] not in json.dumps(entry)


def test_audit_write_failure_never_fails_the_mutation(client, world, scratch, log_output):
    # Given the audit table refuses writes
    class Broken:
        def append(self, entry):
            raise ConflictError("table is on fire")

    # When alice creates something
    with bootstrap.override(audit_log=Broken()):
        response = scratch.http.post(f"{TENANT_A}/widgets", headers=world.headers("alice"), body="{}")

    # Then the mutation still succeeds, and the lost entry is in the log stream, loudly
    assert response.status_code == 201
    lines = [json.loads(line) for line in log_output.getvalue().splitlines() if "audit write failed" in line]
    assert len(lines) == 1 and lines[0]["level"] == "ERROR" and lines[0]["audit_write_failed"] is True
    assert lines[0]["audit_entry"]["action"] == "create_widget"


def _seed(log, tenant_id: str = "tn_a") -> list[AuditEntry]:
    """Five entries, one a minute from 10:00, across actions, actors and results."""
    rows = [
        ("create_widget", "usr_alice", "success"),
        ("power_server", "usr_vic", "denied"),
        ("power_server", "usr_alice", "success"),
        ("break_widget", "usr_alice", "error"),
        ("power_server", "usr_bob", "denied"),
    ]
    written = []
    for minute, (action, actor, result) in enumerate(rows):
        at = f"2026-11-20T10:0{minute}:00.000000Z"
        entry = audit.record(
            log, action=action, result=result, tenant_id=tenant_id, actor_id=actor, via="token", now=lambda at=at: at
        )
        assert entry is not None
        written.append(entry)
    return written


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [4, 3, 2, 1, 0]),
        ("?action=power_server", [4, 2, 1]),
        ("?actor=usr_alice", [3, 2, 0]),
        ("?result=denied", [4, 1]),
        ("?action=power_server&result=success", [2]),
        ("?from=2026-11-20T10:01:00Z&to=2026-11-20T10:03:00Z", [3, 2, 1]),
        ("?from=2026-11-20T10:03:00%2B00:00", [4, 3]),
        ("?to=2026-11-20T10:00:30", [0]),
    ],
)
def test_list_filters_newest_first(client, world, query, expected):
    written = _seed(bootstrap.audit_log())

    items = _log(client, world, query=query)["items"]

    assert [e["id"] for e in items] == [written[i].id for i in expected]


def test_list_pages_with_a_cursor_until_the_end(client, world):
    written = _seed(bootstrap.audit_log())

    seen, cursor, pages = [], None, 0
    while True:
        body = _log(client, world, query="?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += [e["id"] for e in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break

    assert seen == [e.id for e in reversed(written)]
    assert pages == 3


def test_filtered_pages_together_hold_every_match(client, world):
    written = _seed(bootstrap.audit_log())

    seen, cursor = [], None
    while True:
        body = _log(client, world, query="?limit=2&action=power_server" + (f"&cursor={cursor}" if cursor else ""))
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break

    assert seen == [written[i].id for i in (4, 2, 1)]


@pytest.mark.parametrize("query", ["?result=maybe", "?from=yesterday", "?from=2026-11-21&to=2026-11-20", "?cursor=!!"])
def test_list_is_400_when_a_filter_is_bad(client, world, query):
    response = client.http.get(f"/v1/tenants/tn_a/audit{query}", headers=world.headers("alice"))

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "VALIDATION_ERROR"


def test_viewer_cannot_read_the_audit_log(client, world):
    response = client.http.get("/v1/tenants/tn_a/audit", headers=world.headers("vic"))

    assert response.status_code == 403


def test_admin_reads_a_tenants_log_and_only_admins_read_the_platform_log(client, world):
    written = _seed(bootstrap.audit_log())

    body = _platform(client, world, "?tenant_id=tn_a&limit=1")

    assert [e["id"] for e in body["items"]] == [written[-1].id]
    assert client.http.get("/v1/admin/audit", headers=world.headers("alice")).status_code == 403


def test_entries_cannot_be_overwritten(client, world):
    # Given an entry in the log
    log = bootstrap.audit_log()
    [first, *_] = _seed(log)

    # When something tries to put another entry under the same key
    with pytest.raises(ConflictError):
        log.append(replace(first, action="cover_tracks", result="success"))

    # Then the original stands
    [stored] = [e for e in _log(client, world)["items"] if e["id"] == first.id]
    assert stored["action"] == "create_widget"
