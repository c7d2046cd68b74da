"""Migration 0017 on moto: servers from before the counter count, so their blueprint cannot be deleted."""

from __future__ import annotations

import pytest

from mamba import bootstrap
from mamba.domain.errors import BlueprintInUseError
from mamba.domain.servers import Limits, Server
from mamba.migrations.runner import MigrationContext
from mamba.migrations.versions import m0017_blueprint_usage as m0017
from tests.server_world import add_blueprint

T0 = "2026-12-01T10:00:00Z"


def context(log: list[str], action: str = "up") -> MigrationContext:
    return MigrationContext(version="0017", action=action, now=T0, log=log.append, renew_lease=lambda: None)


def old_server(tail: str, blueprint_id: str) -> None:
    """Written straight to the table, as the code before the counter did (no usage counted)."""
    bootstrap.server_repository().add(
        Server(
            uuid=f"0000aaaa-0000-4000-8000-{tail:0>12}",
            name="game",
            tenant_id="tn_a",
            node_id="node_a",
            blueprint_id=blueprint_id,
            allocation=("127.0.0.1", 27015),
            docker_image="img",
            startup="run",
            limits=Limits(memory_mb=256, disk_mb=1024, cpu_percent=100),
            status="offline",
            created_at=T0,
            updated_at=T0,
        )
    )


@pytest.fixture
def blueprints(aws):
    bootstrap.dynamo_tables()
    add_blueprint("bp_a")
    add_blueprint("bp_b")
    return bootstrap.blueprint_repository()


def test_up_counts_existing_servers_per_blueprint_and_running_it_again_changes_nothing(blueprints):
    # Given servers from before the counter
    old_server("1", "bp_a")
    old_server("2", "bp_a")
    old_server("3", "bp_b")
    assert blueprints.usage(["bp_a", "bp_b"]) == {"bp_a": 0, "bp_b": 0}

    # When the migration runs (twice)
    log: list[str] = []
    m0017.up(context(log))
    m0017.up(context(log))

    # Then each blueprint counts its servers and cannot be deleted
    assert blueprints.usage(["bp_a", "bp_b"]) == {"bp_a": 2, "bp_b": 1}
    assert log[-1] == "  counted 3 servers on 2 blueprints"
    with pytest.raises(BlueprintInUseError):
        blueprints.delete("bp_a")


def test_down_removes_the_counters(blueprints):
    old_server("1", "bp_a")
    m0017.up(context([]))

    m0017.down(context([], "down"))

    assert blueprints.usage(["bp_a"]) == {"bp_a": 0}
    blueprints.delete("bp_a")
