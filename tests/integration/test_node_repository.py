"""DynamoNodeRepository and DynamoAllocationRepository on moto, with KMS encryption of the token."""

from __future__ import annotations

import threading

import pytest

from mamba import bootstrap
from mamba.domain import nodes as n
from mamba.domain.errors import ConflictError, NotFoundError

T0 = "2026-11-25T10:00:00Z"


def make_node(node_id: str = "node_a", token_id: str | None = None) -> n.Node:
    return n.Node(
        id=node_id,
        uuid="5b0f6c7e-1f3a-4e55-9d2c-0a4f3b2c1d10",
        name="Node A",
        fqdn="node-a.example.com",
        token_id=token_id or n.new_token_id(),
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture
def repos(aws):
    return bootstrap.node_repository(), bootstrap.allocation_repository()


def test_token_round_trips_through_kms_when_stored_encrypted(repos):
    # Given a node stored with its token
    nodes, _ = repos
    node, token = make_node(), n.new_token()
    nodes.add(node, token)

    # When the raw item is read and the token is asked for
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import NodeItem

    raw = NodeItem.get(*keys.node(node.id))

    # Then the item never holds the token in clear, and the repository gives it back
    assert token not in raw.token_ciphertext
    assert token not in str(raw.attribute_values)
    assert nodes.token(node) == token


def test_find_by_token_id_returns_the_node_when_the_token_id_is_current(repos):
    nodes, _ = repos
    node = make_node()
    nodes.add(node, n.new_token())

    found = nodes.find_by_token_id(node.token_id)

    assert found is not None and found.id == node.id
    assert nodes.find_by_token_id("unknownTokenId16") is None
    assert nodes.find_by_token_id("bad.id") is None


def test_rotation_invalidates_the_old_token_when_a_new_one_is_issued(repos):
    # Given a node with a first token
    nodes, _ = repos
    node, old_token = make_node(), n.new_token()
    nodes.add(node, old_token)

    # When its token is rotated
    new_id, new_token = n.new_token_id(), n.new_token()
    rotated = nodes.rotate_token(node.id, new_id, new_token, T0)

    # Then only the new pair resolves and decrypts
    assert nodes.find_by_token_id(node.token_id) is None
    assert rotated.token_id == new_id
    assert nodes.find_by_token_id(new_id).id == node.id  # type: ignore[union-attr]
    assert nodes.token(rotated) == new_token != old_token


def test_ciphertext_of_one_node_does_not_decrypt_for_another_when_copied(repos):
    # Given two nodes; the second one's ciphertext replaced by the first one's
    nodes, _ = repos
    first, second = make_node("node_1"), make_node("node_2")
    nodes.add(first, n.new_token())
    nodes.add(second, n.new_token())
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import NodeItem

    stolen = NodeItem.get(*keys.node("node_1")).token_ciphertext
    NodeItem(*keys.node("node_2")).update(actions=[NodeItem.token_ciphertext.set(stolen)])

    # Then the encryption context (the node id) refuses it
    from mamba.domain.errors import DependencyUnavailableError

    with pytest.raises(DependencyUnavailableError):
        nodes.token(second)


def test_add_is_refused_when_the_node_id_exists(repos):
    nodes, _ = repos
    nodes.add(make_node(), n.new_token())

    with pytest.raises(ConflictError):
        nodes.add(make_node(), n.new_token())


def test_concurrent_duplicate_allocation_has_exactly_one_winner_when_raced(repos, monkeypatch):
    # Given DynamoDB's per-item atomic writes (moto's in-process writes are not: local/dynamo_atomic.py)
    from moto.dynamodb.models import DynamoDBBackend

    from local import dynamo_atomic

    for name, method in dynamo_atomic.patched().items():
        monkeypatch.setattr(DynamoDBBackend, name, method)
    # and a node and eight threads adding the same ip:port at once
    nodes, allocations = repos
    nodes.add(make_node(), n.new_token())
    results = []
    barrier = threading.Barrier(8)

    def add() -> None:
        barrier.wait()
        results.append(allocations.add_many([n.Allocation("node_a", "10.0.0.5", 25565, T0)]))

    threads = [threading.Thread(target=add) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then exactly one created it and seven were told it conflicted
    assert sum(len(r.created) for r in results) == 1
    assert sum(len(r.conflicts) for r in results) == 7
    assert [a.id for a in allocations.list("node_a")[0]] == ["10.0.0.5_25565"]


def test_allocations_page_with_an_opaque_cursor_when_more_than_a_page_exist(repos):
    _, allocations = repos
    allocations.add_many([n.Allocation("node_a", "10.0.0.5", p, T0) for p in range(25565, 25570)])

    first, cursor = allocations.list("node_a", limit=3)
    second, end = allocations.list("node_a", limit=3, cursor=cursor)

    assert [a.port for a in first + second] == [25565, 25566, 25567, 25568, 25569]
    assert cursor is not None and "ALLOC" not in cursor and "NODE" not in cursor
    assert end is None


def test_assigned_allocation_is_not_deleted_when_a_server_holds_it(repos):
    _, allocations = repos
    allocations.add_many([n.Allocation("node_a", "10.0.0.5", 25565, T0)])
    allocations.assign("node_a", "10.0.0.5", 25565, "srv_1")

    with pytest.raises(ConflictError):
        allocations.delete("node_a", "10.0.0.5", 25565)
    with pytest.raises(ConflictError):
        allocations.assign("node_a", "10.0.0.5", 25565, "srv_2")

    allocations.release("node_a", "10.0.0.5", 25565, "srv_1")
    allocations.delete("node_a", "10.0.0.5", 25565)
    with pytest.raises(NotFoundError):
        allocations.delete("node_a", "10.0.0.5", 25565)


def test_node_delete_is_refused_when_an_allocation_is_assigned(repos):
    nodes, allocations = repos
    node = make_node()
    nodes.add(node, n.new_token())
    allocations.add_many([n.Allocation("node_a", "10.0.0.5", p, T0) for p in (1, 2)])
    allocations.assign("node_a", "10.0.0.5", 1, "srv_1")

    with pytest.raises(ConflictError):
        nodes.delete(node.id)

    allocations.release("node_a", "10.0.0.5", 1, "srv_1")
    nodes.delete(node.id)
    assert nodes.find_by_token_id(node.token_id) is None
    assert allocations.list("node_a")[0] == []
    with pytest.raises(NotFoundError):
        nodes.get(node.id)
