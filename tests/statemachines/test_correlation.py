"""One correlation id from the API request that creates a server, through the workflow input and
every task's log lines, to the X-Request-Id of each Wings call (the simulator logs it)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import pytest
import requests

from mamba import bootstrap
from mamba.observability import logger
from tests.api.tenancy_helpers import bearer
from tests.server_world import create_body
from tests.statemachines.test_provision_server import TENANT, World, world  # noqa: F401 - the fixture

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("provision-sim")]


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    handler = logger.registered_handler
    buffer = io.StringIO()
    handler.redirect = buffer
    try:
        yield buffer
    finally:
        handler.redirect = None


def test_a_request_id_follows_a_server_create_from_the_api_into_every_task_log_line_and_wings_call(
    world: World,  # noqa: F811 - the fixture imported above
    log_lines: io.StringIO,
) -> None:
    # Given the panel over HTTP and a node on the Wings simulator
    panel = world.node.node  # the node record the API places the server on
    assert panel.id
    correlation = "req-corr-7f3a9c21"
    # When the owner creates a server with their own request id
    reply = requests.post(
        f"{_panel_url(world)}/v1/tenants/{TENANT.tenant_id}/servers",
        json=create_body(blueprint_id="bp_line", limits={"memory_mb": 256, "disk_mb": 512, "cpu_percent": 100}),
        headers={**bearer("usr_owner"), "X-Request-Id": correlation},
        timeout=30,
    )
    assert reply.status_code == 202, reply.text
    assert reply.headers["X-Request-Id"] == correlation
    operation_id = reply.json()["operation"]["id"]
    server_uuid = reply.json()["server"]["uuid"]
    described = world.deployed.wait(world.deployed.execution_arn("provision_server", operation_id), timeout_s=90)
    assert described["status"] == "SUCCEEDED", world.deployed.history(described["executionArn"])[-3:]

    # Then the workflow's input carries the id
    assert json.loads(described["input"])["correlation_id"] == correlation
    # and every line a task logged for this operation carries it as its request id
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines() if line.startswith("{")]
    task_lines = [line for line in lines if line.get("operation_id") == operation_id]
    assert task_lines, "the tasks logged nothing under the operation id"
    assert {line["request_id"] for line in task_lines} == {correlation}
    # and the node saw it on every call the panel made for this server
    calls = [
        line
        for line in world.node.log().splitlines()
        if "panel_request_id=" in line and f"/api/servers/{server_uuid}" in line
    ]
    assert calls, world.node.log()[-2000:]
    assert {re.search(r"panel_request_id=(\S+)", line).group(1) for line in calls} == {correlation}  # type: ignore[union-attr]
    # and the API's own line for the request has it too
    assert any(line.get("message") == "request" and line.get("request_id") == correlation for line in lines)
    assert bootstrap.operation_repository().get(TENANT.tenant_id, operation_id).status == "succeeded"


def _panel_url(world: World) -> str:  # noqa: F811
    # The simulator's config points at the panel; its remote URL is the panel's address.
    import yaml

    config = yaml.safe_load((world.node.log_path.parent / "config.yml").read_text())
    return str(config["remote"]).rstrip("/")
