"""Pterodactyl integer ids (docs/pterodactyl-api.md, P1-P4).

An object's id is handed out on first use: one atomic ADD on the kind's counter, then one
transaction that writes the object's side and the number's side, each only if absent. Two
callers racing for the same object both draw a number; one transaction wins and the loser reads
the winner's id (its number is skipped, never reused). Every side carries the whole ``IdRef``,
so each look-up (by object, number, external id or server identifier) is one read.
"""

from __future__ import annotations

from collections.abc import Mapping

from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import PteroCounterItem, PteroRefItem
from mamba.domain.errors import ConflictError
from mamba.domain.pterodactyl import IdRef, short_identifier

UNAVAILABLE = "The id could not be read; try again."


def _ref(item: PteroRefItem) -> IdRef:
    return IdRef(
        kind=item.id_kind,
        ref=item.ref,
        number=int(item.number),
        scope=item.scope,
        external_id=item.external_id,
    )


def _side(key: tuple[str, str], ref: IdRef) -> PteroRefItem:
    return PteroRefItem(
        *key,
        kind="ptero_ref",
        id_kind=ref.kind,
        ref=ref.ref,
        number=ref.number,
        scope=ref.scope,
        external_id=ref.external_id,
    )


class DynamoPteroIds:
    def number(self, kind: str, ref: str, scope: str | None = None) -> IdRef:
        found = self._get(keys.ptero_ref(kind, ref))
        return found if found is not None else self._claim(kind, ref, scope)

    def numbers(self, kind: str, refs: Mapping[str, str | None]) -> dict[str, IdRef]:
        found: dict[str, IdRef] = {}
        wanted = list(refs)
        with translate(unavailable=UNAVAILABLE):
            for start in range(0, len(wanted), 100):
                batch = [keys.ptero_ref(kind, r) for r in wanted[start : start + 100]]
                for item in PteroRefItem.batch_get(batch):
                    found[item.ref] = _ref(item)
        for ref in wanted:
            if ref not in found:
                found[ref] = self._claim(kind, ref, refs[ref])
        return found

    def by_number(self, kind: str, number: int) -> IdRef | None:
        return self._get(keys.ptero_number(kind, number))

    def by_external(self, kind: str, external_id: str) -> IdRef | None:
        return self._get(keys.ptero_external(kind, external_id))

    def by_identifier(self, identifier: str) -> IdRef | None:
        return self._get(keys.ptero_identifier(identifier.lower()))

    def set_external(self, ref: IdRef, external_id: str | None) -> IdRef:
        if ref.external_id == external_id:
            return ref
        from mamba.adapters.dynamo.users import connection

        updated = IdRef(ref.kind, ref.ref, ref.number, ref.scope, external_id)
        sides = [keys.ptero_ref(ref.kind, ref.ref), keys.ptero_number(ref.kind, ref.number), *self._identifier(ref)]
        with translate(
            on_condition=ConflictError(
                "Another object already has this external id.", {"field": "external_id", "external_id": external_id}
            ),
            unavailable="The external id could not be saved; try again.",
        ):
            with TransactWrite(connection=connection()) as tx:
                for side in sides:
                    tx.save(_side(side, updated), condition=PteroRefItem.pk.exists())
                if external_id is not None:
                    tx.save(
                        _side(keys.ptero_external(ref.kind, external_id), updated),
                        condition=PteroRefItem.pk.does_not_exist(),
                    )
                if ref.external_id is not None:
                    tx.delete(PteroRefItem(*keys.ptero_external(ref.kind, ref.external_id)))
        return updated

    def forget(self, ref: IdRef) -> None:
        sides = [keys.ptero_ref(ref.kind, ref.ref), keys.ptero_number(ref.kind, ref.number)]
        if ref.external_id is not None:
            sides.append(keys.ptero_external(ref.kind, ref.external_id))
        sides += self._identifier(ref)
        with translate(unavailable="The id could not be removed; try again."):
            for side in sides:
                PteroRefItem(*side).delete()

    def _identifier(self, ref: IdRef) -> list[tuple[str, str]]:
        """A server's identifier side, when this server holds its identifier."""
        if ref.kind != "server":
            return []
        current = self.by_identifier(short_identifier(ref.ref))
        return (
            [keys.ptero_identifier(short_identifier(ref.ref))] if current is not None and current.ref == ref.ref else []
        )

    @staticmethod
    def _get(key: tuple[str, str]) -> IdRef | None:
        with translate(unavailable=UNAVAILABLE):
            try:
                return _ref(PteroRefItem.get(*key, consistent_read=True))
            except PteroRefItem.DoesNotExist:
                return None

    def _claim(self, kind: str, ref: str, scope: str | None) -> IdRef:
        from mamba.adapters.dynamo.users import connection

        with translate(unavailable="The id could not be handed out; try again."):
            counter = PteroCounterItem(keys.PTERO_COUNTER, kind)
            counter.update(actions=[PteroCounterItem.value.add(1)])
            claimed = IdRef(kind=kind, ref=ref, number=int(counter.value), scope=scope)
        with translate(on_condition=SKIP, unavailable="The id could not be handed out; try again.") as outcome:
            with TransactWrite(connection=connection()) as tx:
                tx.save(_side(keys.ptero_ref(kind, ref), claimed), condition=PteroRefItem.pk.does_not_exist())
                tx.save(
                    _side(keys.ptero_number(kind, claimed.number), claimed), condition=PteroRefItem.pk.does_not_exist()
                )
        if outcome.condition_failed:  # another caller claimed this object first: its id stands
            winner = self._get(keys.ptero_ref(kind, ref))
            if winner is None:  # pragma: no cover - a claim is never taken back but by forget()
                raise ConflictError("The id changed meanwhile; try again.", {"kind": kind})
            return winner
        if kind == "server":
            # The identifier is a look-up aid: the first server with these 8 characters keeps them
            # (another with the same prefix is still reached by its uuid or integer id).
            with translate(on_condition=SKIP, unavailable="The id could not be handed out; try again."):
                _side(keys.ptero_identifier(short_identifier(ref)), claimed).save(
                    condition=PteroRefItem.pk.does_not_exist()
                )
        return claimed
