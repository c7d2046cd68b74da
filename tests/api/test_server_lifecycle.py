"""PATCH/DELETE .../servers/{server_id}, POST .../reinstall and the admin suspend, unsuspend
and force-delete routes: the real app, guard and repositories on moto; the workflows are
recorded, not run (tests/statemachines runs them)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from local.blueprints.seed import line_server
from mamba import bootstrap
from mamba.domain.quotas import Quotas
from mamba.domain.servers import OFFLINE, SUSPENDED, Limits, Server
from mamba.schemas.server_lifecycle import OperationAcceptedOut, ServerUpdatedOut
from tests.api.tenancy_helpers import T0, Api, make_world
from tests.fakes import FakeWorkflows


def add_server(
    tenant_id: str, *, status: str = OFFLINE, memory_mb: int = 1024, port: int = 25565, blueprint_id: str = "bp_api"
) -> Server:
    server = Server(
        uuid=str(uuid.uuid4()),
        name="survival",
        tenant_id=tenant_id,
        node_id="nd_api",
        blueprint_id=blueprint_id,
        environment={"MOTD": "hello", "MAX_PLAYERS": 10},
        allocation=("10.0.0.5", port),
        docker_image="ghcr.io/parkervcp/yolks:python_3.12",
        startup="python3 line_server.py",
        limits=Limits(memory_mb=memory_mb, disk_mb=2048, cpu_percent=100),
        status=status,
        created_at=T0,
        updated_at=T0,
        installed_at=T0,
    )
    bootstrap.server_repository().add(server)
    return server


@pytest.fixture
def api(client: Any) -> Api:
    return make_world(client)


@pytest.fixture
def workflows(client: Any) -> Iterator[FakeWorkflows]:
    fake = FakeWorkflows()
    with bootstrap.override(workflows=fake):
        lifecycle = dataclasses.replace(
            bootstrap.server_lifecycle(),
            quotas=lambda t: Quotas(servers=5, memory_mb=4096, disk_mb=20480, backup_bytes=-1, backups_per_server=3),
        )
        with bootstrap.override(server_lifecycle=lifecycle):
            yield fake


def path(tenant_id: str, server_id: str, tail: str = "") -> str:
    return f"/v1/tenants/{tenant_id}/servers/{server_id}{tail}"


# --- PATCH ---


def test_renaming_answers_200_with_the_server_and_no_operation(api, workflows):
    server = add_server("tn_a")

    response = api.patch(path("tn_a", server.uuid), "usr_alice", {"name": "creative", "description": "builds"})

    assert response.status_code == 200, response.json_body
    body = ServerUpdatedOut.model_validate(response.json_body)
    assert (body.server.id, body.server.name, body.server.description) == (server.uuid, "creative", "builds")
    assert body.operation is None
    assert workflows.started == []


def test_changing_limits_starts_update_server_build_with_the_old_and_new_build(api, workflows):
    server = add_server("tn_a", memory_mb=1024)

    response = api.patch(path("tn_a", server.uuid), "usr_alice", {"limits": {"memory_mb": 2048, "cpu_percent": 200}})

    assert response.status_code == 202, response.json_body
    body = ServerUpdatedOut.model_validate(response.json_body)
    assert body.operation is not None
    assert (body.operation.type, body.operation.status) == ("update_server_build", "pending")
    assert [s.name for s in body.operation.steps] == ["save_build", "sync_node"]
    [(workflow, op_id, payload)] = workflows.started
    assert (workflow, op_id) == ("update_server_build", body.operation.id)
    assert payload["server_uuid"] == server.uuid and payload["tenant_id"] == "tn_a"
    assert payload["limits"]["memory_mb"] == 2048 and payload["limits"]["cpu_percent"] == 200
    assert payload["previous_limits"]["memory_mb"] == 1024
    # the record changes only when the workflow saves it
    assert bootstrap.server_repository().get(server.uuid).limits.memory_mb == 1024


def test_a_build_over_the_plan_is_refused_with_the_limit_named(api, workflows):
    add_server("tn_a", memory_mb=3072, port=25570)
    server = add_server("tn_a", memory_mb=512)

    response = api.patch(path("tn_a", server.uuid), "usr_alice", {"limits": {"memory_mb": 2048}})

    assert response.status_code == 403, response.json_body
    error = response.json_body["error"]
    assert error["code"] == "QUOTA_EXCEEDED"
    assert error["details"] == {"limit": "memory_mb", "quota": 4096, "used": 3072, "requested": 2048}
    assert workflows.started == []


def test_a_smaller_build_is_not_checked_against_the_plan(api, workflows):
    add_server("tn_a", memory_mb=8192, port=25570)  # already over the plan
    server = add_server("tn_a", memory_mb=1024)

    response = api.patch(path("tn_a", server.uuid), "usr_alice", {"limits": {"memory_mb": 512}})

    assert response.status_code == 202, response.json_body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"limits": {"io_weight": 5}}, "limits.io_weight"),
        ({"limits": {"memory_mb": 10}}, "limits.memory_mb"),
        ({"limits": {"threads": "a-b"}}, "limits.threads"),
        ({"tenant_id": "tn_b"}, "tenant_id"),
    ],
    ids=["io-weight", "memory", "threads", "tenant-in-body"],
)
def test_invalid_changes_are_400_naming_the_field(api, workflows, body, field):
    server = add_server("tn_a")

    response = api.patch(path("tn_a", server.uuid), "usr_alice", body)

    assert response.status_code == 400, response.json_body
    assert field in [f["field"] for f in response.json_body["error"]["details"]["fields"]]


def test_environment_changes_are_checked_against_the_blueprint_and_start_a_build_update(api, workflows):
    blueprint = line_server(T0)
    bootstrap.blueprint_repository().add(blueprint)
    server = add_server("tn_a", blueprint_id=blueprint.id)

    refused = api.patch(path("tn_a", server.uuid), "usr_alice", {"environment": {"MAX_PLAYERS": 500}})
    accepted = api.patch(path("tn_a", server.uuid), "usr_alice", {"environment": {"MAX_PLAYERS": 50}})

    assert refused.status_code == 400, refused.json_body
    assert refused.json_body["error"]["details"]["fields"][0]["field"] == "environment.MAX_PLAYERS"
    assert accepted.status_code == 202, accepted.json_body
    [(_, _, payload)] = workflows.started
    assert payload["environment"] == {"MOTD": "hello", "MAX_PLAYERS": 50}
    assert payload["previous_environment"] == {"MOTD": "hello", "MAX_PLAYERS": 10}


def test_an_empty_patch_is_400(api, workflows):
    server = add_server("tn_a")

    response = api.patch(path("tn_a", server.uuid), "usr_alice", {})

    assert response.status_code == 400
    assert "Nothing to change" in response.json_body["error"]["message"]


# --- DELETE, reinstall, the lock ---


def test_delete_answers_202_and_a_second_delete_is_409_while_the_first_runs(api, workflows):
    server = add_server("tn_a")

    first = api.delete(path("tn_a", server.uuid), "usr_alice")
    second = api.delete(path("tn_a", server.uuid), "usr_alice")

    assert first.status_code == 202, first.json_body
    op = OperationAcceptedOut.model_validate(first.json_body).operation
    assert op.type == "delete_server"
    steps = ["kill", "delete_on_node", "release_allocations", "delete_backups", "remove_records"]
    assert [s.name for s in op.steps] == steps
    assert second.status_code == 409
    assert second.json_body["error"]["details"]["operation_id"] == op.id
    assert [w for w, _, _ in workflows.started] == ["delete_server"]
    assert workflows.started[0][2]["force"] is False
    # the operation can be followed by the tenant's members
    followed = api.get(f"/v1/tenants/tn_a/operations/{op.id}", "usr_alice")
    assert followed.status_code == 200 and followed.json_body["target"] == server.uuid


def test_reinstall_answers_202_with_its_install_timeout_input(api, workflows):
    server = add_server("tn_a")

    response = api.post(path("tn_a", server.uuid, "/reinstall"), "usr_alice")

    assert response.status_code == 202, response.json_body
    [(workflow, _, payload)] = workflows.started
    assert workflow == "reinstall_server"
    assert payload["previous_status"] == OFFLINE
    assert payload["install_timeout_seconds"] == bootstrap.settings().reinstall_timeout_seconds
    assert "poll_seconds" not in payload  # the install callback resumes it (a task token)


def test_reinstalling_a_suspended_server_is_a_conflict_naming_its_status(api, workflows):
    server = add_server("tn_a", status=SUSPENDED)

    response = api.post(path("tn_a", server.uuid, "/reinstall"), "usr_alice")

    assert response.status_code == 409
    assert response.json_body["error"]["details"]["status"] == SUSPENDED
    assert workflows.started == []


def test_a_workflow_that_cannot_start_is_503_and_leaves_the_server_unlocked(api, workflows):
    server = add_server("tn_a")
    workflows.fail = True

    refused = api.delete(path("tn_a", server.uuid), "usr_alice")
    workflows.fail = False
    retried = api.delete(path("tn_a", server.uuid), "usr_alice")

    assert refused.status_code == 503
    assert retried.status_code == 202, retried.json_body


@pytest.mark.parametrize("method", ["PATCH", "DELETE", "REINSTALL"])
def test_another_tenants_server_does_not_exist(api, workflows, method):
    theirs = add_server("tn_b")

    if method == "PATCH":
        response = api.patch(path("tn_a", theirs.uuid), "usr_alice", {"name": "mine"})
    elif method == "DELETE":
        response = api.delete(path("tn_a", theirs.uuid), "usr_alice")
    else:
        response = api.post(path("tn_a", theirs.uuid, "/reinstall"), "usr_alice")

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "NOT_FOUND"
    assert bootstrap.server_repository().get(theirs.uuid).name == "survival"
    assert workflows.started == []


def test_a_malformed_server_id_is_404(api, workflows):
    response = api.delete(path("tn_a", "not-a-uuid"), "usr_alice")

    assert response.status_code == 404


# --- admin ---


def test_admin_suspend_runs_in_the_servers_tenant_and_members_can_follow_it(api, workflows):
    server = add_server("tn_a")

    denied = api.post(f"/v1/admin/servers/{server.uuid}/suspend", "usr_alice")
    response = api.post(f"/v1/admin/servers/{server.uuid}/suspend", "usr_root")

    assert denied.status_code == 403
    assert response.status_code == 202, response.json_body
    op = OperationAcceptedOut.model_validate(response.json_body).operation
    assert op.type == "suspend_server"
    assert workflows.started[0][2]["tenant_id"] == "tn_a"
    assert api.get(f"/v1/tenants/tn_a/operations/{op.id}", "usr_alice").status_code == 200


def test_admin_unsuspend_needs_a_suspended_server(api, workflows):
    running = add_server("tn_a")
    suspended = add_server("tn_a", status=SUSPENDED, port=25566)

    refused = api.post(f"/v1/admin/servers/{running.uuid}/unsuspend", "usr_root")
    accepted = api.post(f"/v1/admin/servers/{suspended.uuid}/unsuspend", "usr_root")

    assert refused.status_code == 409
    assert accepted.status_code == 202, accepted.json_body


def test_force_delete_is_only_for_a_server_whose_delete_failed(api, workflows):
    offline = add_server("tn_a")
    stuck = add_server("tn_a", status="deleting", port=25566)

    refused = api.post(f"/v1/admin/servers/{offline.uuid}/force-delete", "usr_root")
    accepted = api.post(f"/v1/admin/servers/{stuck.uuid}/force-delete", "usr_root")

    assert refused.status_code == 409
    assert accepted.status_code == 202, accepted.json_body
    assert workflows.started[-1][0] == "delete_server" and workflows.started[-1][2]["force"] is True


def test_admin_routes_answer_404_for_an_unknown_server(api, workflows):
    response = api.post(f"/v1/admin/servers/{uuid.uuid4()}/suspend", "usr_root")

    assert response.status_code == 404
