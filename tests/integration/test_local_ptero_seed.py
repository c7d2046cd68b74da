"""The seeded data as Pterodactyl's clients see it (``local.ptero_seed``): a fresh ``make run`` has node 1
in location 1, allocations 1-30 and the seeded blueprints as eggs, and a restart changes none of them."""

from __future__ import annotations

import pytest

from local import node_seed, ptero_seed
from local.blueprints import COMMAND_RUNNER_ID, LINE_SERVER_ID
from local.blueprints.seed import seed_blueprints
from mamba import bootstrap

NOW = "2026-11-25T10:00:00Z"


@pytest.fixture
def seeded(aws) -> dict:
    """What the launcher seeds before it claims the ids: the blueprints, then the node and its allocations."""
    seed_blueprints(bootstrap.blueprint_repository(), NOW)
    node_seed.seed_node(8080)
    return ptero_seed.claim_ids(node_seed.LOCAL_NODE_ID)


def test_a_fresh_stack_has_node_1_in_location_1_with_30_allocations_and_the_blueprints_as_eggs(seeded):
    # Then the ids are the first of each kind, in a fixed order
    assert seeded["node"] == 1
    assert seeded["location"] == 1
    assert seeded["allocations"] == {f"127.0.0.1:{25565 + i}": i + 1 for i in range(30)}
    assert seeded["eggs"] == {LINE_SERVER_ID: 1, COMMAND_RUNNER_ID: 2}
    assert seeded["nests"] == {LINE_SERVER_ID: 1, COMMAND_RUNNER_ID: 1}  # both in the default category
    # And each id leads back to the seeded object in one read, as the door looks it up
    ids = bootstrap.ptero_ids()
    assert ids.by_number("node", 1).ref == node_seed.LOCAL_NODE_ID
    assert ids.by_number("location", 1).ref == "local"
    first = ids.by_number("allocation", 1)
    assert (first.ref, first.scope) == (f"{node_seed.LOCAL_NODE_ID}|127.0.0.1|25565", node_seed.LOCAL_NODE_ID)
    assert ids.by_number("egg", 2).ref == COMMAND_RUNNER_ID
    assert ids.by_number("nest", 1).ref == "General"


def test_the_ids_stay_the_same_when_the_stack_restarts(seeded):
    # When the launcher seeds and claims again (make run a second time on the same local dir)
    node_seed.seed_node(8081)
    again = ptero_seed.claim_ids(node_seed.LOCAL_NODE_ID)
    # Then nothing moved, and no id was drawn twice for an object
    assert again == seeded
    assert bootstrap.ptero_ids().number("node", "node_new").number == 2  # the next node gets the next number


def test_the_banner_line_names_the_ids_a_client_needs(seeded):
    # When
    line = ptero_seed.summary(seeded)
    # Then
    assert line == "node 1, location 1, allocations 1-30; nest 1: eggs bp_line_server = 1, bp_command_runner = 2"
