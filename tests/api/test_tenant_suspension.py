"""Attacks on suspension and membership through the console (issue 10, finding 4 and the
"also fix" items), through the real app on moto and a real Wings simulator over HTTP
(tests/api/server_world.py).

The admin's suspension starts the ``suspend_tenant`` workflow; its ASL runs in
tests/statemachines and on the local stack (tests/e2e/test_tenant_security.py). Here the
workflow start is recorded and its tasks are called with the input the ASL gives them, so
every node call still crosses HTTP to the simulator.
"""

from __future__ import annotations

import asyncio
import json
import uuid as uuid_mod
from collections.abc import Iterator
from typing import Any

import aiohttp
import jwt
import pytest

from mamba import bootstrap
from tests.api.server_world import T0, _bind, add_server, server_world
from tests.fakes import FakeWorkflows

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("tenant-suspension")]

CONTROL = ("control.console", "control.start", "control.stop", "control.restart")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with server_world(tmp_path_factory.mktemp("suspension")) as w:
        yield w


@pytest.fixture
def started() -> Iterator[FakeWorkflows]:
    recorder = FakeWorkflows()
    with bootstrap.override(workflows=recorder):
        yield recorder


def fresh_tenant(world) -> tuple[str, str]:
    """A tenant of its own (alice owner, olga operator) with one installed server on the
    simulator; (tenant id, server label)."""
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain.tenancy import Membership, Tenant

    tenant_id = f"tn_{uuid_mod.uuid4().hex[:10]}"
    DynamoTenantRepository().add_with_owner(
        Tenant(id=tenant_id, name=tenant_id, created_at=T0),
        Membership(tenant_id=tenant_id, user_id="usr_alice", role="owner", created_at=T0),
    )
    _bind(tenant_id, "usr_olga", "operator")
    label = f"srv-{tenant_id}"
    world.servers[label] = world.sim.create_installed()
    add_server(world.servers[label], tenant_id)
    return tenant_id, label


def admin(world, verb: str, tenant_id: str) -> Any:
    return world.client.http.post(f"/v1/admin/tenants/{tenant_id}/{verb}", headers=world.headers("root"))


def run_tasks(started: FakeWorkflows, workflow: str) -> list[dict[str, Any]]:
    """Run the last recorded ``workflow`` the way its ASL does: list the servers, one
    ``task_servers`` call per server, (suspend only) deny the consoles, then finish."""
    from functions.tasks import billing as billing_task
    from functions.tasks import servers as servers_task

    name, payload = started.runs[-1]
    assert name == workflow
    tenant_id, op_id = payload["tenant_id"], payload["operation_id"]
    listed = billing_task.handler({"action": "list_servers", "tenant_id": tenant_id})
    action = "suspend" if workflow == "suspend_tenant" else "unsuspend"
    results = [
        servers_task.handler(
            {"action": action, "server_uuid": s["server_uuid"], "operation_id": op_id, "by": payload["by"]}
        )
        for s in listed["servers"]
    ]
    if workflow == "suspend_tenant":
        billing_task.handler({"action": "deny_consoles", "tenant_id": tenant_id})
    billing_task.handler({"action": "finish", "operation_id": op_id, "tenant_id": tenant_id, "results": results})
    return results


def claims_of(world, answer: dict[str, Any]) -> dict[str, Any]:
    return jwt.decode(answer["token"], world.sim.token, algorithms=["HS256"], audience=world.sim.url)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def _authenticate(world, answer) -> list[tuple[str, list[str]]]:
    frames: list[tuple[str, list[str]]] = []
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(answer["socket"], origin=world.sim.panel.url)
        await ws.send_str(json.dumps({"event": "auth", "args": [answer["token"]]}))
        names: set[str] = set()
        while not ({"auth success", "status"} <= names or names & {"jwt error", "daemon error"}):
            msg = await ws.receive(timeout=15)
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            frame = json.loads(msg.data)
            frames.append((frame["event"], frame.get("args") or []))
            names.add(frame["event"])
        await ws.close()
    return frames


async def _try_to_start(world, answer) -> list[str]:
    """Authenticate, ask the node to start the server over the socket, and watch for 3 s."""
    seen: list[str] = []
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(answer["socket"], origin=world.sim.panel.url)
        await ws.send_str(json.dumps({"event": "auth", "args": [answer["token"]]}))
        await ws.send_str(json.dumps({"event": "set state", "args": ["start"]}))
        loop = asyncio.get_running_loop()
        end = loop.time() + 3
        while loop.time() < end:
            try:
                msg = await ws.receive(timeout=max(0.1, end - loop.time()))
            except TimeoutError:
                break
            if msg.type == aiohttp.WSMsgType.TEXT:
                seen.append(json.loads(msg.data)["event"])
        await ws.close()
    return seen


# --- finding 4 ------------------------------------------------------------------------------


def test_suspended_tenant_console_token_has_no_control(world, started):
    # Given a tenant a platform admin suspended (its servers are not suspended yet: the
    # workflow has not run), and another tenant billing suspended
    tenant_id, label = fresh_tenant(world)
    assert admin(world, "suspend", tenant_id).status_code == 200
    unpaid_id, unpaid = fresh_tenant(world)
    bootstrap.billing_repository().set_billing_state(unpaid_id, "suspended")

    for tid, server in ((tenant_id, label), (unpaid_id, unpaid)):
        # When the owner asks for a console token
        response = world.get("alice", server, "/websocket", tenant=tid)
        # Then it is a read-only token: it connects, but carries no control.* permission
        assert response.status_code == 200, response.body[:300]
        granted = claims_of(world, response.json_body)["permissions"]
        assert "websocket.connect" in granted
        assert not set(granted) & set(CONTROL), granted
        assert response.json_body["permissions"] == granted


def test_power_is_refused_when_tenant_is_suspended(world, started):
    # Given a suspended tenant with a stopped server
    tenant_id, label = fresh_tenant(world)
    assert admin(world, "suspend", tenant_id).status_code == 200

    # When the owner tries power, a command and a file write through the API
    for tail, body in (("/power", {"action": "start"}), ("/commands", {"command": "say hi"})):
        refused = world.post("alice", label, tail, body, tenant=tenant_id)
        # Then each is 403 TENANT_SUSPENDED
        assert refused.status_code == 403, refused.body[:300]
        assert refused.json_body["error"]["code"] == "TENANT_SUSPENDED"
    wrote = world.post("alice", label, "/files/write", {"path": "/x.txt", "content": "x"}, tenant=tenant_id)
    assert wrote.status_code == 403 and wrote.json_body["error"]["code"] == "TENANT_SUSPENDED"

    # And when the owner takes a console token and asks the node itself to start the server
    answer = world.get("alice", label, "/websocket", tenant=tenant_id).json_body
    events = run(_try_to_start(world, answer))

    # Then the node never starts it
    assert "auth success" in events
    assert world.sim.state(world.servers[label]) == "offline"


def test_admin_suspension_suspends_servers_on_wings(world, started):
    # Given a tenant whose server runs on the node
    tenant_id, label = fresh_tenant(world)
    server_uuid = world.servers[label]
    assert world.post("alice", label, "/power", {"action": "start"}, tenant=tenant_id).status_code == 202
    world.sim.wait_state(server_uuid, "running")

    # When a platform admin suspends the tenant
    response = admin(world, "suspend", tenant_id)

    # Then the workflow billing uses is started for it, as the admin's suspension
    assert response.status_code == 200 and response.json_body["status"] == "suspended"
    assert started.names() == ["suspend_tenant"]
    assert started.runs[0][1]["by"] == "tenant_admin"
    # And when it runs, the server is suspended by the admin and killed on its node
    results = run_tasks(started, "suspend_tenant")
    assert results == [{"server_uuid": server_uuid, "status": "suspended", "killed": True}]
    assert bootstrap.server_repository().get(server_uuid).status == "suspended"
    assert bootstrap.server_lifecycle().store.suspended_by(server_uuid) == "tenant_admin"
    world.sim.wait_state(server_uuid, "offline")

    # When the admin lifts it, reactivate_tenant brings the server back
    assert admin(world, "unsuspend", tenant_id).json_body["status"] == "active"
    assert started.names() == ["suspend_tenant", "reactivate_tenant"]
    assert run_tasks(started, "reactivate_tenant") == [{"server_uuid": server_uuid, "status": "offline"}]
    assert bootstrap.server_repository().get(server_uuid).status == "offline"


def test_admin_and_billing_suspensions_are_lifted_independently(world, started):
    # Given a tenant suspended by billing (its servers too), then also by a platform admin
    tenant_id, label = fresh_tenant(world)
    server_uuid = world.servers[label]
    billing = bootstrap.billing_repository()
    billing.set_billing_state(tenant_id, "suspended")
    started.start("suspend_tenant", "op_billing", {"tenant_id": tenant_id, "operation_id": "op_b", "by": "billing"})
    bootstrap.operation_repository().add(_operation("op_b", tenant_id))
    run_tasks(started, "suspend_tenant")
    assert admin(world, "suspend", tenant_id).status_code == 200
    run_tasks(started, "suspend_tenant")

    # When the admin lifts their suspension while the subscription is still unpaid
    assert admin(world, "unsuspend", tenant_id).status_code == 200
    lifted = run_tasks(started, "reactivate_tenant")

    # Then the server stays suspended: billing still holds it
    assert lifted == [{"server_uuid": server_uuid, "status": "suspended", "skipped": "tenant_suspended"}]
    assert bootstrap.server_repository().get(server_uuid).status == "suspended"

    # And when billing lifts its own (the invoice is paid), the server comes back
    billing.set_billing_state(tenant_id, "active")
    started.start("reactivate_tenant", "op_paid", {"tenant_id": tenant_id, "operation_id": "op_p", "by": "billing"})
    bootstrap.operation_repository().add(_operation("op_p", tenant_id))
    assert run_tasks(started, "reactivate_tenant") == [{"server_uuid": server_uuid, "status": "offline"}]

    # And the other way round: billing paying does not lift an admin's suspension
    assert admin(world, "suspend", tenant_id).status_code == 200
    run_tasks(started, "suspend_tenant")
    started.start("reactivate_tenant", "op_paid2", {"tenant_id": tenant_id, "operation_id": "op_p2", "by": "billing"})
    bootstrap.operation_repository().add(_operation("op_p2", tenant_id))
    assert run_tasks(started, "reactivate_tenant")[0]["skipped"] == "suspended_by_admin"
    assert bootstrap.server_repository().get(server_uuid).status == "suspended"


def _operation(op_id: str, tenant_id: str) -> Any:
    from mamba.domain import operations as ops

    return ops.new_operation(op_id, tenant_id, "billing.test", ["servers", "finish"], T0, target=tenant_id)


def test_suspension_denies_issued_console_tokens(world, started):
    # Given the owner and an operator each hold a console token with control permissions
    tenant_id, label = fresh_tenant(world)
    tokens = {who: world.get(who, label, "/websocket", tenant=tenant_id).json_body for who in ("alice", "olga")}
    for answer in tokens.values():
        assert "control.console" in answer["permissions"]

    # When a platform admin suspends the tenant and the workflow runs
    assert admin(world, "suspend", tenant_id).status_code == 200
    run_tasks(started, "suspend_tenant")

    # Then the node refuses every token issued before the suspension
    for answer in tokens.values():
        frames = run(_authenticate(world, answer))
        assert ("jwt error", ["jwt: created too far in past (denylist)"]) in frames


def test_admin_suspension_changes_nothing_when_its_workflow_cannot_start(world):
    # Given Step Functions refuses to start the workflow
    from mamba.domain.errors import DependencyUnavailableError

    class Refusing:
        def start(self, *args: Any, **kwargs: Any) -> str:
            raise DependencyUnavailableError("Step Functions is unavailable.")

    with bootstrap.override(workflows=Refusing()):
        tenant_id, _ = fresh_tenant(world)

        # When a platform admin suspends the tenant
        response = admin(world, "suspend", tenant_id)

    # Then the admin is told to retry and the tenant is not left half-suspended
    assert response.status_code == 503, response.body[:300]
    assert bootstrap.admin_repository().get_tenant(tenant_id).status == "active"


# --- also fix: a removed member's sessions ---------------------------------------------------


async def _removed_while_connected(world, answer, remove) -> tuple[list[str], Any]:
    """Open the socket and authenticate, remove the member (in a thread: the app is
    synchronous), then read until the node closes the socket or 10 s pass."""
    events: list[str] = []
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(answer["socket"], origin=world.sim.panel.url)
        await ws.send_str(json.dumps({"event": "auth", "args": [answer["token"]]}))
        while "auth success" not in events:
            msg = await ws.receive(timeout=15)
            events.append(json.loads(msg.data)["event"])
        status = await asyncio.to_thread(remove)
        assert status == 204, status
        loop = asyncio.get_running_loop()
        end = loop.time() + 10
        while not ws.closed and loop.time() < end:
            try:
                msg = await ws.receive(timeout=max(0.1, end - loop.time()))
            except TimeoutError:
                break
            if msg.type == aiohttp.WSMsgType.TEXT:
                events.append(json.loads(msg.data)["event"])
            elif msg.type == aiohttp.WSMsgType.CLOSE:
                return events, msg.data  # the code the node closed with
            elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                break
        return events, None


def test_removed_member_loses_console_socket(world):
    # Given olga, an operator, has the server's console open
    tenant_id, label = fresh_tenant(world)
    answer = world.get("olga", label, "/websocket", tenant=tenant_id).json_body

    def remove() -> int:
        url = f"/v1/tenants/{tenant_id}/members/usr_olga"
        return int(world.client.http.delete(url, headers=world.headers("alice")).status_code)

    # When the owner removes her from the tenant
    events, close_code = run(_removed_while_connected(world, answer, remove))

    # Then the node closes her open socket at once (deauthorize-user)
    assert close_code == 4409, (close_code, events)
    # And the token she holds no longer opens a new one (ws/deny)
    frames = run(_authenticate(world, answer))
    assert ("jwt error", ["jwt: created too far in past (denylist)"]) in frames


def test_losing_console_rights_closes_the_open_socket(world):
    # Given olga, an operator, has the server's console open
    tenant_id, label = fresh_tenant(world)
    answer = world.get("olga", label, "/websocket", tenant=tenant_id).json_body

    def demote() -> int:
        url = f"/v1/tenants/{tenant_id}/members/usr_olga"
        body = json.dumps({"role": "viewer"})
        headers = world.headers("alice")
        response = world.client.http.patch(url, headers=headers, body=body)
        return 204 if response.status_code == 200 else int(response.status_code)

    # When the owner makes her a viewer (no console)
    events, close_code = run(_removed_while_connected(world, answer, demote))

    # Then the node closes her socket
    assert close_code == 4409, (close_code, events)


# --- also fix: node facts in errors ------------------------------------------------------------


def test_tenant_errors_do_not_reveal_nodes(world):
    from tests.api.server_world import DEAD_NODE_ID

    # When the owner reads a server whose node is down
    response = world.get("alice", "unreachable", "/resources")

    # Then the error says the node is unavailable, without naming the node or the Wings call
    assert response.status_code == 503, response.body[:300]
    body = response.json_body["error"]
    assert body["code"] == "NODE_UNAVAILABLE"
    assert DEAD_NODE_ID not in json.dumps(response.json_body)
    assert not {"node_id", "method", "path", "wings_status"} & set(body["details"])
    # And what is safe to say stays (why, for a retry)
    assert body["details"].get("reason") in ("unreachable", "timeout", "circuit_open")


def test_admin_errors_keep_node_details(world):
    # Given a node that is down, the admin's view of the same failure names it
    from mamba import web
    from mamba.domain.errors import NoCapacityError, WingsUnavailableError

    admin_spec = web.RouteSpec(path="/v1/admin/x", method="GET", permission="admin.nodes", summary="x")
    tenant_spec = web.RouteSpec(path="/v1/tenants/{tenant_id}/servers", method="POST", permission="servers.create",
                                summary="x")  # fmt: skip
    down = {"node_id": "nd_1", "method": "GET", "path": "/api/system", "reason": "timeout"}
    placement = {"nodes_considered": 4, "ruled_out": {"memory": 3, "maintenance": 1}}

    assert web._for_caller(admin_spec, WingsUnavailableError("down", dict(down))).details == down
    assert web._for_caller(tenant_spec, WingsUnavailableError("down", dict(down))).details == {"reason": "timeout"}
    assert web._for_caller(tenant_spec, NoCapacityError("full", dict(placement))).details == {}
    assert web._for_caller(admin_spec, NoCapacityError("full", dict(placement))).details == placement
