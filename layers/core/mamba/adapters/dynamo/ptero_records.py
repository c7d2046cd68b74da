"""Pterodactyl-only values of users and locations (docs/pterodactyl-api.md): one item per object
in its kind's partition ``PTERO#RECORD#<kind>``, so a kind's list is one Query and an object's
record one GetItem. A unique name (a username, a location's short code) is claimed by ``add``,
a conditional put that only one of two racing callers wins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import translate
from mamba.adapters.dynamo.items import PteroRecordItem
from mamba.domain.errors import ConflictError

UNAVAILABLE = "The record could not be read; try again."


def _values(item: PteroRecordItem) -> dict[str, Any]:
    return dict(item.values.as_dict() if hasattr(item.values, "as_dict") else item.values or {})


class DynamoPteroRecords:
    def get(self, kind: str, ref: str) -> dict[str, Any] | None:
        with translate(unavailable=UNAVAILABLE):
            try:
                return _values(PteroRecordItem.get(*keys.ptero_record(kind, ref), consistent_read=True))
            except PteroRecordItem.DoesNotExist:
                return None

    def get_many(self, kind: str, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        wanted = list(dict.fromkeys(refs))
        with translate(unavailable=UNAVAILABLE):
            for start in range(0, len(wanted), 100):
                batch = [keys.ptero_record(kind, r) for r in wanted[start : start + 100]]
                for item in PteroRecordItem.batch_get(batch):
                    found[item.sk] = _values(item)
        return found

    def list(self, kind: str) -> dict[str, dict[str, Any]]:
        pk, _ = keys.ptero_record(kind, "")
        with translate(unavailable=UNAVAILABLE):
            return {item.sk: _values(item) for item in PteroRecordItem.query(pk, consistent_read=True)}

    def add(self, kind: str, ref: str, values: Mapping[str, Any]) -> None:
        with translate(
            on_condition=ConflictError("The name is taken.", {"kind": kind, "ref": ref}),
            unavailable="The record could not be saved; try again.",
        ):
            self._item(kind, ref, values).save(condition=PteroRecordItem.pk.does_not_exist())

    def put(self, kind: str, ref: str, values: Mapping[str, Any]) -> None:
        with translate(unavailable="The record could not be saved; try again."):
            self._item(kind, ref, values).save()

    def delete(self, kind: str, ref: str) -> None:
        with translate(unavailable="The record could not be removed; try again."):
            PteroRecordItem(*keys.ptero_record(kind, ref)).delete()

    @staticmethod
    def _item(kind: str, ref: str, values: Mapping[str, Any]) -> PteroRecordItem:
        return PteroRecordItem(*keys.ptero_record(kind, ref), kind="ptero_record", values=dict(values))
