"""The data migrations as part of the deploy (issue 19, item 2): the stack's ``Migrations``
custom resource, its function (functions/deploy/migrations.py) and the service behind it, on
moto's table with the real ledger. CloudFormation's side is played by a local HTTP server that
receives the response document at the request's ResponseURL, as S3's presigned URL would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infra import template as cfn
from mamba.migrations.model import MigrationContext
from mamba.migrations.registry import load_migrations
from mamba.migrations.runner import MigrationRunner
from mamba.services import deploy_migrations

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/mamba-staging/0f1e2d3c"


@dataclass
class Recorded:
    version: str
    journal: list[str]
    description: str = "test migration"
    fail_on: set[str] = field(default_factory=set)

    def up(self, ctx: MigrationContext) -> None:
        self.journal.append(f"up {self.version}")
        if "up" in self.fail_on:
            raise RuntimeError("boom")

    def down(self, ctx: MigrationContext) -> None:
        self.journal.append(f"down {self.version}")


@pytest.fixture
def ledger(aws):
    from mamba import bootstrap
    from mamba.adapters.dynamo.migrations import DynamoMigrationLedger

    bootstrap.dynamo_tables()
    return DynamoMigrationLedger()


def event(request: str, mode: str = "apply", url: str = "http://127.0.0.1:9/none", **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request,
        "ResponseURL": url,
        "StackId": STACK_ID,
        "RequestId": "req-1",
        "LogicalResourceId": cfn.MIGRATIONS,
        "ResourceType": "Custom::Migrations",
        "ResourceProperties": {"ServiceToken": "arn:...", "Mode": mode, "Versions": "0001,0002"},
        **extra,
    }


def plenty() -> int:
    return 600_000


def handle(ledger, migrations, request: str, mode: str = "apply", time_left=plenty):
    return deploy_migrations.handle(
        event(request, mode), lambda: MigrationRunner(ledger, migrations), time_left, lambda _line: None
    )


def test_create_applies_every_migration_and_an_update_finds_nothing_left(ledger) -> None:
    journal: list[str] = []
    migrations = [Recorded("0001", journal), Recorded("0002", journal)]
    # When the stack is created, then updated by a deploy that brings nothing new
    created = handle(ledger, migrations, "Create")
    updated = handle(ledger, migrations, "Update")
    # Then each migration ran exactly once
    assert (created.status, created.data["Applied"]) == ("SUCCESS", "0001,0002")
    assert (updated.status, updated.data["Applied"], updated.reason) == ("SUCCESS", "", "Up to date.")
    assert journal == ["up 0001", "up 0002"]


def test_a_release_with_a_new_migration_applies_only_that_one(ledger) -> None:
    journal: list[str] = []
    handle(ledger, [Recorded("0001", journal)], "Create")
    answer = handle(ledger, [Recorded("0001", journal), Recorded("0002", journal)], "Update")
    assert answer.data["Applied"] == "0002"
    assert journal == ["up 0001", "up 0002"]


def test_a_dry_run_lists_the_pending_migrations_and_applies_none(ledger) -> None:
    journal: list[str] = []
    answer = handle(ledger, [Recorded("0001", journal), Recorded("0002", journal)], "Create", mode="dry-run")
    assert (answer.status, answer.data["Pending"]) == ("SUCCESS", "0001,0002")
    assert "Dry run: would apply 2" in answer.reason
    assert journal == [] and ledger.read().applied == ()


def test_a_failing_migration_fails_the_resource_with_its_reason_so_the_deploy_rolls_back(ledger) -> None:
    journal: list[str] = []
    answer = handle(ledger, [Recorded("0001", journal), Recorded("0002", journal, fail_on={"up"})], "Update")
    assert answer.status == "FAILED"
    assert "RuntimeError: boom" in answer.reason
    assert ledger.read().applied == ("0001",)  # the one before it stays applied (and is backward compatible)


def test_a_rollback_to_older_code_applies_and_undoes_nothing_and_succeeds(ledger) -> None:
    journal: list[str] = []
    handle(ledger, [Recorded("0001", journal), Recorded("0002", journal)], "Create")
    # CloudFormation rolls back: the previous release (which knows only 0001) answers the Update
    answer = handle(ledger, [Recorded("0001", journal)], "Update")
    assert (answer.status, answer.data["Ahead"]) == ("SUCCESS", "0002")
    assert journal == ["up 0001", "up 0002"] and ledger.read().applied == ("0001", "0002")


def test_delete_and_mode_off_touch_nothing(ledger) -> None:
    journal: list[str] = []
    assert handle(ledger, [Recorded("0001", journal)], "Delete").status == "SUCCESS"
    assert handle(ledger, [Recorded("0001", journal)], "Create", mode="off").status == "SUCCESS"
    assert journal == []


def test_it_stops_between_migrations_while_there_is_time_left_to_answer(ledger) -> None:
    journal: list[str] = []
    clock = iter([600_000, 10_000, 10_000])
    answer = handle(
        ledger, [Recorded("0001", journal), Recorded("0002", journal)], "Create", time_left=lambda: next(clock)
    )
    assert answer.status == "FAILED"
    assert (answer.data["Applied"], answer.data["Pending"]) == ("0001", "0002")
    assert journal == ["up 0001"]


def test_a_runner_that_cannot_be_built_is_a_failed_answer_not_an_exception() -> None:
    def broken() -> MigrationRunner:
        raise RuntimeError("no table")

    answer = deploy_migrations.handle(event("Create"), broken, plenty, lambda _line: None)
    assert (answer.status, answer.reason) == ("FAILED", "RuntimeError: no table")


# --- the function, end to end, with CloudFormation's response URL -------------------------------


@pytest.fixture
def cloudformation() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in for the presigned response URL: records each PUT body and its content type."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"body": json.loads(body), "content_type": self.headers.get("Content-Type")})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/response?X-Amz-Signature=abc", received
    finally:
        server.shutdown()
        server.server_close()


class Context:
    log_stream_name = "2026/12/05/[$LATEST]abc"

    def get_remaining_time_in_millis(self) -> int:
        return 800_000


def test_the_function_applies_the_real_migrations_and_answers_cloudformation(ledger, cloudformation) -> None:
    from functions.deploy.migrations import handler

    url, received = cloudformation
    # When CloudFormation creates the stack's Migrations resource, then updates it unchanged
    handler(event("Create", url=url), Context())
    handler(event("Update", url=url, PhysicalResourceId="mamba-staging-migrations"), Context())
    # Then every migration of this code is applied once, and each request got its answer
    versions = [m.version for m in load_migrations()]
    assert list(ledger.read().applied) == versions
    first, second = (r["body"] for r in received)
    assert first["Status"] == "SUCCESS" and first["Data"]["Applied"] == ",".join(versions)
    assert second["Status"] == "SUCCESS" and second["Data"]["Applied"] == ""
    # with one physical id (an Update never "replaces" the resource) and the request's ids
    assert first["PhysicalResourceId"] == second["PhysicalResourceId"] == "mamba-staging-migrations"
    assert (first["StackId"], first["RequestId"], first["LogicalResourceId"]) == (STACK_ID, "req-1", cfn.MIGRATIONS)
    # and no content type, which the presigned URL was not signed with
    assert {r["content_type"] for r in received} == {""}


def test_the_template_runs_the_function_with_this_codes_versions_after_the_tables() -> None:
    resource = cfn.merge_template()["Resources"][cfn.MIGRATIONS]
    assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["MigrateOnDeploy", "Arn"]}
    assert resource["Properties"]["Versions"] == ",".join(m.version for m in load_migrations())
    assert resource["Properties"]["Mode"] == {"Ref": "MigrationsOnDeploy"}
    assert {t.logical_id for t in cfn.TABLES} <= set(resource["DependsOn"])
    assert resource["Properties"]["ServiceTimeout"] > 900  # the function's longest run, plus the answer
