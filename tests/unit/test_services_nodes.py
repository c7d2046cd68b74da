"""mamba.services.nodes over FakeNodeRepository and FakeAllocationRepository (tests/fakes.py,
held to the DynamoDB adapters by tests/contract/test_server_stores.py)."""

from __future__ import annotations

import pytest

from mamba.domain.errors import ConflictError, NotFoundError, ValidationError
from mamba.services import nodes as service
from tests.fakes import FakeAllocationRepository, FakeNodeRepository

FIELDS = {"name": "Frankfurt 1", "fqdn": "fra1.example.org", "memory_mb": 8192, "disk_mb": 100_000}


@pytest.fixture
def repos() -> tuple[FakeNodeRepository, FakeAllocationRepository]:
    nodes = FakeNodeRepository()
    return nodes, FakeAllocationRepository(nodes)


def test_create_node_stores_it_with_a_fresh_token_and_only_editable_fields(repos):
    nodes, _ = repos

    node = service.create_node(nodes, {**FIELDS, "token_id": "x" * 16, "tags": ["eu", "eu", "ssd"]}, node_id="nd_1")

    assert nodes.get("nd_1") == node
    assert node.token_id != "x" * 16 and len(node.token_id) == 16
    assert len(nodes.token(node)) >= 32
    assert node.tags == ("eu", "ssd")


def test_create_node_is_refused_naming_the_bad_field(repos):
    nodes, _ = repos

    with pytest.raises(ValidationError) as refused:
        service.create_node(nodes, {**FIELDS, "daemon_port": 70000})

    assert refused.value.details["fields"][0]["field"] == "daemon_port"
    assert nodes.nodes == {}


def test_create_node_conflicts_when_the_id_exists(repos):
    nodes, _ = repos
    service.create_node(nodes, FIELDS, node_id="nd_1")

    with pytest.raises(ConflictError):
        service.create_node(nodes, FIELDS, node_id="nd_1")


def test_update_node_changes_the_fields_and_keeps_the_token(repos):
    nodes, _ = repos
    node = service.create_node(nodes, FIELDS, node_id="nd_1")

    updated = service.update_node(nodes, "nd_1", {"name": "renamed", "maintenance": True, "uuid": "ignored"})

    assert (updated.name, updated.maintenance, updated.uuid) == ("renamed", True, node.uuid)
    assert nodes.get("nd_1").token_id == node.token_id
    with pytest.raises(ValidationError):
        service.update_node(nodes, "nd_1", {"scheme": "gopher"})
    with pytest.raises(NotFoundError):
        service.update_node(nodes, "nd_missing", {"name": "x"})


def test_rotate_token_retires_the_old_token_id(repos):
    nodes, _ = repos
    node = service.create_node(nodes, FIELDS, node_id="nd_1")

    rotated = service.rotate_token(nodes, "nd_1")

    assert rotated.token_id != node.token_id
    assert nodes.find_by_token_id(node.token_id) is None
    assert nodes.find_by_token_id(rotated.token_id) == rotated


def test_node_configuration_carries_the_token_and_merges_the_extra_document(repos):
    nodes, _ = repos
    node = service.create_node(nodes, FIELDS, node_id="nd_1")

    document = service.node_configuration_document(
        nodes, "nd_1", "https://panel.example/", {"system": {"data": "/srv"}, "debug": True}
    )
    text = service.node_configuration(nodes, "nd_1", "https://panel.example")

    assert (document["token_id"], document["token"]) == (node.token_id, nodes.token(node))
    assert document["remote"] == "https://panel.example"
    assert document["system"]["data"] == "/srv" and "sftp" in document["system"]
    assert document["debug"] is True
    assert f"token_id: {node.token_id}" in text
    with pytest.raises(NotFoundError):
        service.node_configuration(nodes, "nd_missing", "https://panel.example")


def test_add_allocations_expands_ranges_and_reports_ports_already_there(repos):
    nodes, allocations = repos
    service.create_node(nodes, FIELDS, node_id="nd_1")

    first = service.add_allocations(nodes, allocations, "nd_1", "10.0.0.5", ["25565-25567"], alias="game")
    second = service.add_allocations(nodes, allocations, "nd_1", "10.0.0.5", [25567, "25568"])

    assert [a.port for a in first.created] == [25565, 25566, 25567]
    assert ([a.port for a in second.created], second.conflicts) == ([25568], ["10.0.0.5:25567"])
    listed, cursor = service.list_allocations(nodes, allocations, "nd_1", 10, None)
    assert [a.port for a in listed] == [25565, 25566, 25567, 25568] and cursor is None
    assert listed[0].alias == "game"


def test_add_allocations_conflicts_when_every_port_exists(repos):
    nodes, allocations = repos
    service.create_node(nodes, FIELDS, node_id="nd_1")
    service.add_allocations(nodes, allocations, "nd_1", "10.0.0.5", [25565])

    with pytest.raises(ConflictError) as refused:
        service.add_allocations(nodes, allocations, "nd_1", "10.0.0.5", [25565])

    assert refused.value.details == {"conflicts": ["10.0.0.5:25565"], "conflict_count": 1}


def test_add_allocations_is_refused_for_a_bad_ip_bad_ports_or_an_unknown_node(repos):
    nodes, allocations = repos
    service.create_node(nodes, FIELDS, node_id="nd_1")

    with pytest.raises(ValidationError):
        service.add_allocations(nodes, allocations, "nd_1", "not-an-ip", [25565])
    with pytest.raises(ValidationError):
        service.add_allocations(nodes, allocations, "nd_1", "10.0.0.5", ["25600-25500"])
    with pytest.raises(NotFoundError):
        service.add_allocations(nodes, allocations, "nd_missing", "10.0.0.5", [25565])
    with pytest.raises(NotFoundError):
        service.list_allocations(nodes, allocations, "nd_missing", 10, None)
    assert allocations.rows == {}


def test_delete_allocation_refuses_a_held_one_and_a_bad_id(repos):
    nodes, allocations = repos
    service.create_node(nodes, FIELDS, node_id="nd_1")
    service.add_allocations(nodes, allocations, "nd_1", "10.0.0.5", [25565, 25566])
    allocations.assign("nd_1", "10.0.0.5", 25565, "srv_a")

    service.delete_allocation(allocations, "nd_1", "10.0.0.5_25566")

    with pytest.raises(ConflictError):
        service.delete_allocation(allocations, "nd_1", "10.0.0.5_25565")
    with pytest.raises(ValidationError):
        service.delete_allocation(allocations, "nd_1", "10.0.0.5:25565")
    with pytest.raises(NotFoundError):
        service.delete_allocation(allocations, "nd_1", "10.0.0.5_25566")


def test_delete_node_refuses_while_a_server_holds_an_allocation(repos):
    nodes, allocations = repos
    service.create_node(nodes, FIELDS, node_id="nd_1")
    service.add_allocations(nodes, allocations, "nd_1", "10.0.0.5", [25565])
    allocations.assign("nd_1", "10.0.0.5", 25565, "srv_a")

    with pytest.raises(ConflictError):
        service.delete_node(nodes, "nd_1")
    allocations.release("nd_1", "10.0.0.5", 25565, "srv_a")
    service.delete_node(nodes, "nd_1")

    with pytest.raises(NotFoundError):
        service.get_node(nodes, "nd_1")
    assert allocations.rows == {}


@pytest.mark.parametrize(("raw", "limit"), [(None, 50), ("", 50), ("1", 1), ("100", 100)])
def test_page_limit_reads_the_query_value(raw, limit):
    assert service.page_limit(raw) == limit


@pytest.mark.parametrize("raw", ["0", "101", "ten", "-1"])
def test_page_limit_is_refused_outside_1_to_100(raw):
    with pytest.raises(ValidationError):
        service.page_limit(raw)


def test_list_nodes_pages_in_creation_order(repos):
    nodes, _ = repos
    made = [service.create_node(nodes, FIELDS, node_id=f"nd_{n}") for n in range(3)]

    first, cursor = service.list_nodes(nodes, 2, None)
    rest, last = service.list_nodes(nodes, 2, cursor)

    assert len(first) == 2
    assert {n.id for n in first + rest} == {n.id for n in made} and last is None


def test_allowed_origins_default_to_the_panels_origin_without_its_path():
    from mamba.domain.nodes import Node, allowed_origins

    node = Node(id="n", uuid="u", name="n", fqdn="node1.example.com", token_id="t" * 16, created_at="", updated_at="")
    # A PublicUrl with a path still serves the app at its origin, which is what the browser sends.
    assert allowed_origins(node, "https://panel.example.com/app") == ["https://panel.example.com"]
    listed = Node(**{**node.__dict__, "allowed_origins": ("https://a.example.com", "http://[::1]:8000")})
    assert allowed_origins(listed, "https://panel.example.com") == ["https://a.example.com", "http://[::1]:8000"]
