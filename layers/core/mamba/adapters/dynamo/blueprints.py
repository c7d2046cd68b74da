"""Blueprints: ``BLUEPRINT#<id>/PROFILE``, listed through gsi1 ``BLUEPRINTS`` in creation order, and
``BLUEPRINT#<id>/USAGE``, how many servers use it (kept by the server reservation and removal).

The whole blueprint is one JSON document on the item, so building a server's Wings
configuration costs one GetItem.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys, prefetch
from mamba.adapters.dynamo.errors import SKIP, get_or_none, translate
from mamba.adapters.dynamo.items import BlueprintItem, BlueprintUsageItem
from mamba.adapters.dynamo.pagination import CursorCodec, query_page
from mamba.adapters.dynamo.users import connection
from mamba.domain.blueprints import Blueprint, blueprint_from_dict, blueprint_to_dict
from mamba.domain.errors import BlueprintInUseError, ConflictError, NotFoundError
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
        ahead = prefetch.take(keys.blueprint(blueprint_id))  # read with the caller by the guard (a read)
        if ahead is not None:
            if ahead.item is None:
                raise _not_found(blueprint_id)
            return _blueprint(BlueprintItem.from_raw_data(ahead.item))
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

    def usage(self, blueprint_ids: Sequence[str]) -> dict[str, int]:
        """How many servers use each blueprint (N11): one BatchGetItem per 100 ids; absent counts are 0."""
        counts = dict.fromkeys(blueprint_ids, 0)
        if not counts:
            return counts
        with translate(unavailable="The blueprints' usage could not be read; try again."):
            for item in BlueprintUsageItem.batch_get([keys.blueprint_usage(b) for b in counts]):
                counts[item.pk.removeprefix("BLUEPRINT#")] = max(0, int(item.servers or 0))
        return counts

    def delete(self, blueprint_id: str) -> None:
        """Delete the blueprint, its usage counter with it, only while no server uses it: the counter's
        condition is checked in the same transaction that the reservation of a server updates it in
        (N11), so a server created meanwhile either lands first (refused) or finds no blueprint.

        Raises NotFoundError, BlueprintInUseError (409, ``details.servers``)."""
        usage = BlueprintUsageItem(*keys.blueprint_usage(blueprint_id))
        with translate(on_condition=SKIP) as outcome:
            with TransactWrite(connection=connection()) as tx:
                tx.delete(BlueprintItem(*keys.blueprint(blueprint_id)), condition=BlueprintItem.pk.exists())
                tx.delete(
                    usage,
                    condition=BlueprintUsageItem.servers.does_not_exist() | (BlueprintUsageItem.servers <= 0),
                )
        if not outcome.condition_failed:
            return
        if get_or_none(BlueprintItem, *keys.blueprint(blueprint_id), consistent_read=True) is None:
            raise _not_found(blueprint_id)
        servers = self.usage([blueprint_id])[blueprint_id]
        raise BlueprintInUseError(
            f"{servers} server(s) use this blueprint; delete them first.",
            {"blueprint_id": blueprint_id, "servers": servers},
        )
