"""Migration 0013 on moto: stored blueprints lose the simulator's ``local_safe`` flag."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from mamba import bootstrap
from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import BlueprintItem
from mamba.domain.blueprints import Blueprint
from mamba.migrations.model import MigrationContext
from mamba.migrations.versions import m0013_drop_blueprint_local_safe as m0013

T0 = "2026-12-01T10:00:00Z"


def context(log: list[str], action: str = "up") -> MigrationContext:
    return MigrationContext(version="0013", action=action, now=T0, log=log.append, renew_lease=lambda: None)


def blueprint(blueprint_id: str) -> Blueprint:
    return Blueprint(
        id=blueprint_id,
        name=f"Game {blueprint_id}",
        startup="./run",
        docker_images={"Debian": "ghcr.io/parkervcp/yolks:debian"},
        created_at=T0,
        updated_at=T0,
    )


def flag_as_stored_before(blueprint_id: str, value: bool) -> None:
    """What the code before issue 15 wrote: the attribute, and the key in the JSON document."""
    client = bootstrap.boto_client("dynamodb")
    pk, sk = keys.blueprint(blueprint_id)
    stored = json.loads(BlueprintItem.get(pk, sk).document)
    stored["local_safe"] = value
    client.update_item(
        TableName=BlueprintItem.Meta.table_name,
        Key={"pk": {"S": pk}, "sk": {"S": sk}},
        UpdateExpression="SET local_safe = :flag, document = :doc",
        ExpressionAttributeValues={":flag": {"BOOL": value}, ":doc": {"S": json.dumps(stored)}},
    )


def raw(blueprint_id: str) -> dict:
    pk, sk = keys.blueprint(blueprint_id)
    client = bootstrap.boto_client("dynamodb")
    return client.get_item(
        TableName=BlueprintItem.Meta.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    )["Item"]


@pytest.fixture
def repo(aws):
    return bootstrap.blueprint_repository()


def test_up_removes_the_flag_from_every_stored_blueprint_and_keeps_the_rest_when_run_twice(repo):
    # Given two blueprints stored with the flag (set and unset), and one stored without it
    for blueprint_id in ("bp_safe", "bp_unsafe", "bp_new"):
        repo.add(blueprint(blueprint_id))
    flag_as_stored_before("bp_safe", True)
    flag_as_stored_before("bp_unsafe", False)
    before = {b: repo.get(b) for b in ("bp_safe", "bp_unsafe", "bp_new")}
    log: list[str] = []

    # When the migration runs (twice: a re-run finds nothing more to remove)
    m0013.up(context(log))
    m0013.up(context([]))

    # Then no item carries the flag, as an attribute or in its document, and each reads back unchanged
    for blueprint_id, was in before.items():
        item = raw(blueprint_id)
        assert "local_safe" not in item
        assert "local_safe" not in json.loads(item["document"]["S"])
        assert repo.get(blueprint_id) == was
    assert log == ["  removed local_safe from 3 blueprints"]


def test_down_changes_nothing_when_rolled_back(repo):
    repo.add(blueprint("bp_game"))
    m0013.up(context([]))
    before = raw("bp_game")

    m0013.down(context([], "down"))

    assert raw("bp_game") == before


def test_up_leaves_a_blueprint_saved_since_it_was_read_to_that_save(repo, monkeypatch):
    # Given a flagged blueprint read by the migration, then renamed by an admin before its update
    repo.add(blueprint("bp_busy"))
    flag_as_stored_before("bp_busy", True)
    stale = list(BlueprintItem.gsi1.query(keys.ALL_BLUEPRINTS))
    repo.save(replace(repo.get("bp_busy"), name="Renamed meanwhile"))
    monkeypatch.setattr(BlueprintItem.gsi1, "query", lambda *_args, **_kwargs: iter(stale))
    log: list[str] = []

    # When the migration updates over what it read
    m0013.up(context(log))

    # Then the admin's save stands (written by this code, it carries no flag) and nothing is counted
    assert repo.get("bp_busy").name == "Renamed meanwhile"
    assert "local_safe" not in raw("bp_busy")
    assert log == ["  removed local_safe from 0 blueprints"]
