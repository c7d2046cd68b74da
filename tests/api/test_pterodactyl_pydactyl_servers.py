"""py-dactyl 2.1.3, the real client, on /api/application/servers in process (its requests reach
the product app through ``chalice.test.Client``; the running stack's test is
tests/e2e/test_pydactyl.py). Every body py-dactyl sends is accepted and each answer is what it
reads back; workflows are recorded, not run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from pydactyl import PterodactylClient

from mamba import bootstrap
from tests.api.pterodactyl_server_world import OTHER_IMAGE, World, allocation_number, number, server_world
from tests.api.test_pterodactyl_pydactyl_application import PANEL, ChaliceAdapter


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with server_world() as built:
        yield built


@pytest.fixture(scope="module")
def dactyl(world: World) -> PterodactylClient:
    api = PterodactylClient(PANEL, world.keys["rw"])
    api._session.mount("http://", ChaliceAdapter(world.client))
    return api


def _installed(server_uuid: str) -> None:
    """What provision_server and Wings' install callback would leave (the workflow is recorded)."""
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import ServerItem
    from tests.api.tenancy_helpers import T0

    ServerItem(*keys.server(server_uuid)).update(
        actions=[ServerItem.status.set("offline"), ServerItem.installed_at.set(T0)]
    )


def _create(dactyl: PterodactylClient, **kwargs: Any) -> dict[str, Any]:
    nest = bootstrap.ptero_ids().number("nest", "General").number
    answer = dactyl.servers.create_server(
        name="billing",
        user_id=number("user", "usr_carol"),
        nest_id=nest,
        egg_id=number("egg", "bp_line"),
        memory_limit=512,
        swap_limit=0,
        disk_limit=1024,
        cpu_limit=100,
        backup_limit=2,
        allocation_limit=2,
        environment={"MOTD": "from py-dactyl"},
        start_on_completion=False,
        **kwargs,
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json()["attributes"])


def test_py_dactyl_creates_on_a_named_allocation_and_by_deploy_rules(dactyl, world):
    pinned = _create(dactyl, default_allocation=allocation_number(25610), external_id="pyd-1", description="one")
    deployed = _create(dactyl, location_ids=[number("location", "de.fra")], port_range=["30000-30002"])

    assert pinned["status"] == "installing" and pinned["external_id"] == "pyd-1"
    assert pinned["allocation"] == allocation_number(25610)
    assert pinned["container"]["environment"]["MOTD"] == "from py-dactyl"
    assert pinned["feature_limits"] == {"databases": 0, "allocations": 2, "backups": 2}
    assert deployed["node"] == number("node", "nd_beta")
    assert {payload["server_uuid"] for payload in world.started("provision_server")} >= {
        pinned["uuid"],
        deployed["uuid"],
    }


def test_py_dactyl_reads_lists_and_changes_a_server(dactyl, world):
    server = _create(dactyl, default_allocation=allocation_number(25611), external_id="pyd-2")
    other = _create(dactyl, default_allocation=allocation_number(25615))
    for made in (server, other):
        _installed(made["uuid"])

    by_id = dactyl.servers.get_server_info(server_id=server["id"], includes=["allocations", "variables"])
    by_external = dactyl.servers.get_server_info(external_id="pyd-2")
    listed = dactyl.servers.list_servers()
    details = dactyl.servers.update_server_details(server["id"], "renamed", number("user", "usr_carol"), "pyd-2b")
    build = dactyl.servers.update_server_build(
        server["id"], allocation_id=server["allocation"], memory_limit=768, backup_limit=3, add_allocations=[]
    )
    startup = dactyl.servers.update_server_startup(
        other["id"], environment={"MOTD": "changed"}, docker_image=OTHER_IMAGE
    )
    # while the build's workflow holds the server, a startup change is refused whole
    with pytest.raises(requests.HTTPError) as busy:
        dactyl.servers.update_server_startup(server["id"], environment={"MOTD": "changed"}, docker_image=OTHER_IMAGE)

    # py-dactyl hands back the server's attributes
    assert by_id["uuid"] == by_external["uuid"] == server["uuid"]
    assert by_id["relationships"]["variables"]["data"][0]["attributes"]["server_value"] == "from py-dactyl"
    assert server["id"] in [s["attributes"]["id"] for s in listed.data]
    assert details.status_code == 200 and details.json()["attributes"]["external_id"] == "pyd-2b"
    assert build.status_code == 200, build.text
    assert build.json()["attributes"]["feature_limits"]["backups"] == 3
    assert startup.status_code == 200, startup.text
    assert startup.json()["attributes"]["container"]["image"] == OTHER_IMAGE
    [build_run] = [p for p in world.started("update_server_build") if p["server_uuid"] == server["uuid"]]
    assert build_run["limits"]["memory_mb"] == 768
    [startup_run] = [p for p in world.started("update_server_build") if p["server_uuid"] == other["uuid"]]
    assert startup_run["environment"]["MOTD"] == "changed"
    assert busy.value.response.status_code == 409
    assert bootstrap.server_repository().get(server["uuid"]).docker_image != OTHER_IMAGE


def test_py_dactyl_suspends_reinstalls_and_deletes(dactyl, world):
    servers = []
    for port in (25612, 25613, 25614):
        created = _create(dactyl, default_allocation=allocation_number(port))
        _installed(created["uuid"])
        servers.append(created)

    assert dactyl.servers.suspend_server(servers[0]["id"]).status_code == 204
    assert dactyl.servers.reinstall_server(servers[1]["id"]).status_code == 204
    assert dactyl.servers.delete_server(servers[2]["id"], force=True).status_code == 204
    started = {(name, payload["server_uuid"]) for name, _op, payload in world.workflows.started}
    assert {
        ("suspend_server", servers[0]["uuid"]),
        ("reinstall_server", servers[1]["uuid"]),
        ("delete_server", servers[2]["uuid"]),
    } <= started
    with pytest.raises(requests.HTTPError):
        dactyl.servers.get_server_info(server_id=999_999)
