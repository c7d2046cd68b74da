"""Migration 0014 on moto: servers written before gsi3 appear in /v1/admin/servers' listing."""

from __future__ import annotations

import pytest

from mamba import bootstrap
from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import ServerItem
from mamba.domain.fleet import ServerFilter
from mamba.domain.pages import PageRequest
from mamba.domain.servers import Limits, Server
from mamba.migrations.runner import MigrationContext
from mamba.migrations.versions import m0014_fleet_server_index as m0014

T0 = "2026-12-01T10:00:00Z"


def context(log: list[str], action: str = "up") -> MigrationContext:
    return MigrationContext(version="0014", action=action, now=T0, log=log.append, renew_lease=lambda: None)


def server(server_uuid: str, *, old: bool) -> None:
    bootstrap.server_repository().add(
        Server(
            uuid=server_uuid,
            name=f"game {server_uuid[:4]}",
            tenant_id="tn_a",
            node_id="node_a",
            blueprint_id="bp",
            allocation=("127.0.0.1", 27015),
            docker_image="img",
            startup="run",
            limits=Limits(memory_mb=256, disk_mb=1024, cpu_percent=100),
            status="offline",
            created_at=T0,
            updated_at=T0,
        )
    )
    if old:  # written by the code before gsi3
        ServerItem(*keys.server(server_uuid)).update(actions=[ServerItem.gsi3pk.remove(), ServerItem.gsi3sk.remove()])


def listed() -> set[str]:
    page = bootstrap.fleet_reader().servers(ServerFilter(), PageRequest(limit=100))
    return {entry.server.uuid for entry in page.items}


@pytest.fixture
def tables(aws):
    bootstrap.dynamo_tables()


def test_servers_from_before_the_index_are_listed_after_the_migration(tables):
    # Given a server written before gsi3 and one written by the current code
    server("0000aaaa-0000-4000-8000-000000000001", old=True)
    server("0000bbbb-0000-4000-8000-000000000002", old=False)
    assert listed() == {"0000bbbb-0000-4000-8000-000000000002"}
    log: list[str] = []

    # When the migration runs (twice: a re-run changes nothing)
    m0014.up(context(log))
    m0014.up(context([]))

    # Then both are listed, keyed in creation order
    assert listed() == {"0000aaaa-0000-4000-8000-000000000001", "0000bbbb-0000-4000-8000-000000000002"}
    item = ServerItem.get(*keys.server("0000aaaa-0000-4000-8000-000000000001"))
    assert item.gsi3sk == keys.created_sort(T0, "0000aaaa-0000-4000-8000-000000000001")
    assert log == ["  indexed 1 servers for the admin listing"]

    # And down removes the keys again
    m0014.down(context([], "down"))
    assert listed() == set()
