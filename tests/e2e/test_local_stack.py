"""The local stack as ``make run`` starts it: real moto, real state machines, ``chalice local``."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import boto3
import psutil
import pytest
import requests

from local.mailbox import list_messages
from tests.e2e.conftest import Stack, stop

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

ACCOUNT_STATE_MACHINE_PREFIX = "arn:aws:states:us-east-1:123456789012:stateMachine:mamba-"


def aws_client(stack: Stack, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=stack.aws,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_ready_answers_ok_with_every_check_when_the_stack_is_up(stack: Stack, http: requests.Session) -> None:
    # When
    response = http.get(f"{stack.api}/health/ready", timeout=10)
    # Then
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"dynamodb": "ok", "s3": "ok", "stepfunctions": "ok"}}
    assert response.headers["X-Request-Id"]


def test_live_answers_ok_when_the_stack_is_up(stack: Stack, http: requests.Session) -> None:
    response = http.get(f"{stack.api}/health/live", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_route_is_404_not_found_with_request_id_when_no_route_matches(
    stack: Stack, http: requests.Session
) -> None:
    # Given
    request_id = "e2e-unknown-route-0001"
    # When
    response = http.get(f"{stack.api}/v1/no/such/route", headers={"X-Request-Id": request_id}, timeout=10)
    # Then
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["code"] == "NOT_FOUND"
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["request_id"] == request_id
    assert response.headers["X-Request-Id"] == request_id


def _public_post_with_body(document: dict[str, Any]) -> str | None:
    """A public panel POST route that takes a JSON body, from the served OpenAPI document.

    Only ``/v1/`` routes: the Stripe webhook and the Wings callbacks check a signature or a
    node token before they read the body.
    """
    for path, methods in sorted(document.get("paths", {}).items()):
        operation = methods.get("post")
        public = operation is not None and not operation.get("security")
        if public and "requestBody" in operation and path.startswith("/v1/") and "{" not in path:
            return str(path)
    return None


def test_malformed_json_is_400_validation_error_when_posted_to_a_route_with_a_body(
    stack: Stack, http: requests.Session
) -> None:
    # Given
    path = _public_post_with_body(http.get(f"{stack.api}/openapi.json", timeout=10).json())
    assert path is not None, "the served OpenAPI document lists no public POST route with a JSON body"
    # When
    response = http.post(
        f"{stack.api}{path}", data=b'{"email": "a@b.c",', headers={"Content-Type": "application/json"}, timeout=10
    )
    # Then
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"]["fields"]
    assert response.headers["X-Request-Id"] == body["request_id"]


def test_docs_page_is_served_when_the_stack_is_up(stack: Stack, http: requests.Session) -> None:
    response = http.get(stack.info["docs"], timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")


def test_stack_file_names_every_local_service_when_the_stack_is_ready(stack: Stack) -> None:
    # When
    info = json.loads((stack.local_dir / "stack.json").read_text())
    # Then
    assert info["api"] == f"http://127.0.0.1:{stack.api_port}"
    assert info["aws"] == f"http://127.0.0.1:{stack.aws_port}"
    assert info["docs"] == f"http://127.0.0.1:{stack.api_port}/docs"
    assert info["mail_dir"] == str(stack.local_dir / "mail")
    assert info["pid"] == stack.process.pid


def test_secrets_file_is_generated_private_when_no_jwt_secret_is_given(stack: Stack) -> None:
    # Given the session started the stack without JWT_SECRET
    path = stack.local_dir / "secrets.env"
    # Then
    values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and line[0] != "#")
    assert len(values["JWT_SECRET"].encode()) >= 48
    assert path.stat().st_mode & 0o077 == 0


def test_every_server_binds_loopback_only_when_the_stack_is_up(stack: Stack) -> None:
    # Given the stack's processes
    launcher = psutil.Process(stack.process.pid)
    processes = [launcher, *launcher.children(recursive=True)]
    # When
    listening = [c for p in processes for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    # Then
    assert {c.laddr.port for c in listening} >= {stack.api_port, stack.aws_port}
    assert {c.laddr.ip for c in listening} == {"127.0.0.1"}


@pytest.fixture
def moto_operations(stack: Stack) -> Iterator[Any]:
    """The operation repository pointed at the stack's moto for one test, then put back."""
    from mamba import bootstrap
    from mamba.adapters.dynamo import items
    from mamba.adapters.dynamo.operations import DynamoOperationRepository

    saved = (items.MainItem.Meta.table_name, items.MainItem.Meta.region, items.MainItem.Meta.host)
    items.bind("mamba-main", "us-east-1", stack.aws)
    try:
        yield DynamoOperationRepository()
    finally:
        items.bind(*saved)
        bootstrap.reset()


def test_check_platform_succeeds_when_its_execution_is_started_against_local_moto(
    stack: Stack, moto_operations: Any
) -> None:
    from mamba.adapters.sfn import SfnWorkflows
    from mamba.auth.context import TenantContext
    from mamba.services import operations

    # Given
    sfn = aws_client(stack, "stepfunctions")
    workflows = SfnWorkflows(sfn, lambda name: f"{ACCOUNT_STATE_MACHINE_PREFIX}{name}")
    platform = TenantContext(tenant_id="platform", role="system", permissions=frozenset())
    # When
    op = operations.start_operation(
        moto_operations,
        workflows,
        platform,
        "check_platform",
        "check_platform",
        ["probe_services"],
        {"checks": ["dynamodb", "s3", "stepfunctions"]},
    )
    execution_arn = f"{ACCOUNT_STATE_MACHINE_PREFIX}check_platform".replace(":stateMachine:", ":execution:")
    execution_arn += f":{op.id}"
    deadline = time.monotonic() + 30
    status = "RUNNING"
    while status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
        status = sfn.describe_execution(executionArn=execution_arn)["status"]
    # Then
    assert status == "SUCCEEDED", sfn.get_execution_history(executionArn=execution_arn)["events"][-3:]
    record = moto_operations.get("platform", op.id)
    assert record.status == "succeeded"
    assert [(s.name, s.status) for s in record.steps] == [("probe_services", "succeeded")]


def test_mail_sent_through_ses_is_spooled_as_eml_when_the_stack_is_up(stack: Stack) -> None:
    # Given
    ses = aws_client(stack, "ses")
    mail_dir = Path(stack.info["mail_dir"])
    # When
    sent = ses.send_email(
        Source="no-reply@mamba.local",
        Destination={"ToAddresses": ["player@example.com"]},
        Message={"Subject": {"Data": "Verify your email"}, "Body": {"Text": {"Data": "Open /verify?token=abc"}}},
    )
    deadline = time.monotonic() + 10
    found = [m for m in list_messages(mail_dir) if sent["MessageId"] in m.path.name]
    while not found and time.monotonic() < deadline:
        time.sleep(0.2)
        found = [m for m in list_messages(mail_dir) if sent["MessageId"] in m.path.name]
    # Then
    assert len(found) == 1
    assert (found[0].sender, found[0].to, found[0].subject) == (
        "no-reply@mamba.local",
        "player@example.com",
        "Verify your email",
    )
    body = message_from_bytes(found[0].path.read_bytes(), policy=policy.default).get_body()
    assert body is not None and "/verify?token=abc" in body.get_content()


def test_mamba_mail_lists_the_spooled_mail_when_the_stack_has_sent_some(stack: Stack) -> None:
    # Given
    aws_client(stack, "sesv2").send_email(
        FromEmailAddress="no-reply@mamba.local",
        Destination={"ToAddresses": ["owner@example.com"]},
        Content={"Simple": {"Subject": {"Data": "Your server is ready"}, "Body": {"Html": {"Data": "<p>ready</p>"}}}},
    )
    deadline = time.monotonic() + 10
    mail_dir = Path(stack.info["mail_dir"])
    while not any(m.subject == "Your server is ready" for m in list_messages(mail_dir)):
        assert time.monotonic() < deadline, "the SES v2 send never reached the mail folder"
        time.sleep(0.2)
    # When
    listed = subprocess.run(
        [sys.executable, "-m", "mamba.cli", "mail", "--dir", str(mail_dir)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    # Then
    assert listed.returncode == 0, listed.stderr
    assert "Your server is ready" in listed.stdout
    assert "owner@example.com" in listed.stdout


def test_admin_login_is_printed_and_kept_private_when_the_stack_seeds(stack: Stack) -> None:
    # Given the seed generated the admin's password (the session sets no MAMBA_ADMIN_PASSWORD)
    stored = dict(
        line.split("=", 1) for line in (stack.local_dir / "admin.txt").read_text().splitlines() if "=" in line
    )
    # Then
    assert f"Admin      {stored['email']} / {stored['password']}" in stack.log.read_text()
    assert (stack.local_dir / "admin.txt").stat().st_mode & 0o077 == 0


@pytest.mark.stops_stack
def test_sigint_stops_every_process_when_the_stack_is_interrupted(stack: Stack) -> None:
    # Given the launcher and everything it started
    launcher = psutil.Process(stack.process.pid)
    children = launcher.children(recursive=True)
    assert children, "the API process should be running"
    # When
    returncode = stop(stack.process, signal.SIGINT)
    # Then
    assert returncode == 0, stack.log_tail()
    _gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive, [p.cmdline() for p in alive]
    for port in (stack.api_port, stack.aws_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"
    assert not (stack.local_dir / "stack.json").exists()
