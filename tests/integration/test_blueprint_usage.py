"""A blueprint's server count on moto (docs/data-model.md N11): the reservation counts a server,
the removal of its records takes it back exactly once, and a blueprint is deleted only at 0."""

from __future__ import annotations

import pytest

from mamba import bootstrap
from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import BlueprintUsageItem
from mamba.adapters.dynamo.server_lifecycle import DynamoServerLifecycleStore
from mamba.domain.errors import BlueprintInUseError, NotFoundError
from mamba.domain.servers import Limits, Server
from tests.server_world import add_blueprint, add_node

T0 = "2026-11-25T10:00:00Z"


def server(tail: str, port: int, blueprint_id: str = "bp_used") -> Server:
    return Server(
        uuid=f"00000000-0000-4000-8000-{tail:0>12}",
        name="s",
        tenant_id="tn_a",
        node_id="nd_alpha",
        blueprint_id=blueprint_id,
        allocation=("10.0.0.1", port),
        docker_image="img",
        startup="run",
        limits=Limits(memory_mb=256, disk_mb=512),
        status="provisioning",
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture
def world(aws):
    bootstrap.dynamo_tables()
    add_node("alpha", ports=range(25565, 25568))
    add_blueprint("bp_used")
    add_blueprint("bp_idle")
    return bootstrap.placement_store(), bootstrap.blueprint_repository(), DynamoServerLifecycleStore()


def test_delete_is_refused_with_the_count_while_servers_use_the_blueprint(world):
    # Given two servers reserved on a blueprint
    placement, blueprints, _ = world
    placement.reserve(server("1", 25565), placement.guard("tn_a"))
    placement.reserve(server("2", 25566), placement.guard("tn_a"))

    # When the admin deletes it
    with pytest.raises(BlueprintInUseError) as refused:
        blueprints.delete("bp_used")

    # Then it is refused naming how many servers use it, and the blueprint stays
    assert refused.value.status == 409
    assert refused.value.details == {"blueprint_id": "bp_used", "servers": 2}
    assert blueprints.get("bp_used").id == "bp_used"
    assert blueprints.usage(["bp_used", "bp_idle", "bp_unknown"]) == {"bp_used": 2, "bp_idle": 0, "bp_unknown": 0}


def test_removing_the_servers_frees_the_blueprint_once_even_when_retried(world):
    # Given a blueprint with two servers, one undone before its workflow started
    placement, blueprints, lifecycle = world
    first, second = server("1", 25565), server("2", 25566)
    placement.reserve(first, placement.guard("tn_a"))
    placement.reserve(second, placement.guard("tn_a"))
    placement.unreserve(first)

    # When the other's records are removed twice (a retried delete_server task)
    lifecycle.remove(second.uuid)
    lifecycle.remove(second.uuid)
    placement.unreserve(first)

    # Then the count is 0, not negative, and the delete goes through with its counter
    assert blueprints.usage(["bp_used"]) == {"bp_used": 0}
    blueprints.delete("bp_used")
    with pytest.raises(NotFoundError):
        blueprints.get("bp_used")
    assert BlueprintUsageItem.count(keys.blueprint_usage("bp_used")[0]) == 0


def test_a_deleted_blueprint_takes_no_new_server_and_an_unknown_one_is_not_found(world):
    placement, blueprints, _ = world
    blueprints.delete("bp_idle")

    with pytest.raises(NotFoundError):
        placement.reserve(server("3", 25567, blueprint_id="bp_idle"), placement.guard("tn_a"))
    with pytest.raises(NotFoundError):
        blueprints.delete("bp_idle")

    assert [a.port for a in placement.free_allocations("nd_alpha")] == [25565, 25566, 25567]
    assert blueprints.usage(["bp_idle"]) == {"bp_idle": 0}
