"""Blueprints: ``BLUEPRINT#<id>/PROFILE``, listed through gsi1 ``BLUEPRINTS`` in creation order.

The whole blueprint is one JSON document on the item, so building a server's Wings
configuration costs one GetItem.
"""

from __future__ import annotations

import json

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import translate
from mamba.adapters.dynamo.items import BlueprintItem
from mamba.adapters.dynamo.pagination import CursorCodec, query_page
from mamba.domain.blueprints import Blueprint, blueprint_from_dict, blueprint_to_dict
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.pages import DEFAULT_LIMIT, PageRequest


def _item(blueprint: Blueprint) -> BlueprintItem:
    pk, sk = keys.blueprint(blueprint.id)
    return BlueprintItem(
        pk,
        sk,
        kind="blueprint",
        gsi1pk=keys.ALL_BLUEPRINTS,
        gsi1sk=keys.created_sort(blueprint.created_at, blueprint.id),
        blueprint_id=blueprint.id,
        name=blueprint.name,
        document=json.dumps(blueprint_to_dict(blueprint), separators=(",", ":")),
        created_at=blueprint.created_at,
        updated_at=blueprint.updated_at,
    )


def _blueprint(item: BlueprintItem) -> Blueprint:
    return blueprint_from_dict(json.loads(item.document))


def _not_found(blueprint_id: str) -> NotFoundError:
    return NotFoundError("Blueprint not found.", {"blueprint_id": blueprint_id})


class DynamoBlueprintRepository:
    def __init__(self, codec: CursorCodec | None = None) -> None:
        self._codec = codec  # only listing needs it (the seed migration only adds and deletes)

    def add(self, blueprint: Blueprint) -> None:
        """ConflictError if the id exists (seeded ids are fixed, so a re-run seed is refused, not doubled)."""
        with translate(on_condition=ConflictError("The blueprint already exists.", {"blueprint_id": blueprint.id})):
            _item(blueprint).save(condition=BlueprintItem.pk.does_not_exist())

    def get(self, blueprint_id: str) -> Blueprint:
        with translate(on_missing=_not_found(blueprint_id)):
            return _blueprint(BlueprintItem.get(*keys.blueprint(blueprint_id), consistent_read=True))

    def list(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> tuple[list[Blueprint], str | None]:
        """Blueprints in creation order, one Query on gsi1 per page (signed cursors)."""
        if self._codec is None:
            raise RuntimeError("listing blueprints needs a cursor codec")
        found, next_cursor = query_page(
            self._codec,
            BlueprintItem.gsi1.query,
            keys.ALL_BLUEPRINTS,
            scope="admin.blueprints",
            page=PageRequest(limit, cursor),
        )
        return [_blueprint(item) for item in found], next_cursor

    def save(self, blueprint: Blueprint) -> None:
        """Replace an existing blueprint. NotFoundError if it is gone."""
        with translate(on_condition=_not_found(blueprint.id)):
            _item(blueprint).save(condition=BlueprintItem.pk.exists())

    def delete(self, blueprint_id: str) -> None:
        with translate(on_condition=_not_found(blueprint_id)):
            BlueprintItem(*keys.blueprint(blueprint_id)).delete(condition=BlueprintItem.pk.exists())
