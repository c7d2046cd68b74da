"""services.blueprints on fakes: usage on every read, the delete refused while servers use a blueprint,
and the preview that stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamba.domain.blueprints import Blueprint, EggFormatError
from mamba.domain.errors import BlueprintInUseError
from mamba.services import blueprints as service
from tests.fakes import FakeBlueprintRepository

EGG = Path(__file__).resolve().parents[1] / "fixtures" / "eggs" / "minecraft-paper.json"


def blueprint(blueprint_id: str, at: str) -> Blueprint:
    return Blueprint(
        id=blueprint_id, name=blueprint_id, startup="run", docker_images={"a": "img"}, created_at=at, updated_at=at
    )


@pytest.fixture
def repo() -> FakeBlueprintRepository:
    repo = FakeBlueprintRepository(blueprint("bp_a", "t1"), blueprint("bp_b", "t2"))
    repo.servers["bp_a"] = 2
    return repo


def test_reads_carry_how_many_servers_use_each_blueprint(repo):
    page, cursor = service.list_blueprints(repo, 10, None)

    assert [(b["id"], b["servers"]) for b in page] == [("bp_a", 2), ("bp_b", 0)]
    assert cursor is None
    assert service.get_blueprint(repo, "bp_a")["servers"] == 2
    assert service.update_blueprint(repo, "bp_a", {"name": "renamed"})["servers"] == 2


def test_delete_is_refused_with_the_count_while_servers_use_it_and_allowed_at_zero(repo):
    with pytest.raises(BlueprintInUseError) as refused:
        service.delete_blueprint(repo, "bp_a")

    assert refused.value.details == {"blueprint_id": "bp_a", "servers": 2}
    assert "bp_a" in repo.blueprints
    service.delete_blueprint(repo, "bp_b")
    assert "bp_b" not in repo.blueprints


def test_preview_parses_the_egg_like_the_import_and_stores_nothing(repo):
    egg = json.loads(EGG.read_text())

    preview = service.preview_egg(egg)

    assert preview.name == egg["name"]
    assert [v.env_variable for v in preview.variables] == [v["env_variable"] for v in egg["variables"]]
    assert set(repo.blueprints) == {"bp_a", "bp_b"}
    with pytest.raises(EggFormatError):
        service.preview_egg({**egg, "docker_images": {}})
