"""Refresh-token families: ``RFAMILY#<id>/FAMILY`` and one ``RFAMILY#<id>/TOKEN#<sha256>``
per token, in the family's partition so the family and a token are read together.
The family item is also in its user's gsi1 partition (``USER#<uid>`` /
``RFAMILY#<created_at>#<fid>``) for the sessions list; revocation removes those keys, so the
list holds unrevoked families only and needs no filter (one Query per page).

Rotation is one transaction: mark the presented token used (only if it is unused), put
the next token, and record the use on the family if it is not revoked. Two requests presenting the same
token cannot both rotate it; the loser sees the condition fail, which the service treats
as reuse and answers by revoking the family. Items carry ``ttl`` = the family's expiry.
"""

from __future__ import annotations

from typing import Any

from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import MainItem, RefreshFamilyItem, RefreshTokenItem
from mamba.adapters.dynamo.pagination import CursorCodec, query_page
from mamba.adapters.dynamo.users import connection
from mamba.domain.accounts import ClientHints, RefreshFamily, RefreshToken
from mamba.domain.clock import iso, utcnow
from mamba.domain.errors import DependencyUnavailableError
from mamba.domain.pages import Page, PageRequest

UNAVAILABLE = "The session store is unavailable; try again."


def _revoked(reason: str) -> list[Any]:
    """Revoke, and take the family out of its user's sessions list (its gsi1 keys)."""
    return [
        RefreshFamilyItem.revoked.set(True),
        RefreshFamilyItem.revoked_reason.set(reason),
        RefreshFamilyItem.gsi1pk.remove(),
        RefreshFamilyItem.gsi1sk.remove(),
    ]


def _unavailable() -> DependencyUnavailableError:
    return DependencyUnavailableError(UNAVAILABLE)


def _batch_get(wanted: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Raw items by key, read consistently in one BatchGetItem (retrying unprocessed keys)."""
    table = MainItem.Meta.table_name
    client = MainItem._get_connection().connection.client
    request: dict[str, Any] = {
        table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in wanted], "ConsistentRead": True}
    }
    found: dict[tuple[str, str], dict[str, Any]] = {}
    with translate(unavailable=UNAVAILABLE):
        for _attempt in range(3):
            raw: dict[str, Any] = client.batch_get_item(RequestItems=request)
            for item in raw.get("Responses", {}).get(table, []):
                found[(item["pk"]["S"], item["sk"]["S"])] = item
            request = raw.get("UnprocessedKeys") or {}
            if not request:
                return found
    raise _unavailable()  # keys still unprocessed after three tries: DynamoDB is throttling


def _family(item: RefreshFamilyItem) -> RefreshFamily:
    return RefreshFamily(
        id=item.family_id,
        user_id=item.user_id,
        issued_at=int(item.issued_at),
        expires_at=int(item.expires_at),
        created_at=item.created_at,
        revoked=bool(item.revoked),
        last_used_at=int(item.last_used_at) if item.last_used_at is not None else None,
        ip=item.ip,
        user_agent=item.user_agent,
    )


class DynamoSessionStore:
    def __init__(self, cursors: CursorCodec | None = None) -> None:
        self._cursors = cursors

    def start(self, family: RefreshFamily, token_digest: str) -> None:
        family_item = RefreshFamilyItem(
            *keys.refresh_family(family.id),
            kind="refresh_family",
            ttl=family.expires_at,
            gsi1pk=keys.refresh_families_of_user(family.user_id),
            gsi1sk=keys.user_refresh_family_sort(family.created_at, family.id),
            ip=family.ip,
            user_agent=family.user_agent,
            family_id=family.id,
            user_id=family.user_id,
            issued_at=family.issued_at,
            expires_at=family.expires_at,
            created_at=family.created_at,
        )
        token_item = self._token_item(family, token_digest, family.expires_at)
        with translate(unavailable=UNAVAILABLE):
            with TransactWrite(connection=connection()) as tx:
                tx.save(family_item, condition=RefreshFamilyItem.pk.does_not_exist())
                tx.save(token_item, condition=RefreshTokenItem.pk.does_not_exist())

    def load(self, family_id: str, token_digest: str) -> tuple[RefreshFamily | None, RefreshToken | None]:
        family_key = keys.refresh_family(family_id)
        token_key = keys.refresh_token(family_id, token_digest)
        found = _batch_get([family_key, token_key])
        family = None
        if family_key in found:
            family = _family(RefreshFamilyItem.from_raw_data(found[family_key]))
        token = None
        if token_key in found:
            t = RefreshTokenItem.from_raw_data(found[token_key])
            token = RefreshToken(
                family_id=t.family_id,
                user_id=t.user_id,
                expires_at=int(t.expires_at),
                used_at=int(t.used_at) if t.used_at is not None else None,
            )
        return family, token

    def rotate(
        self,
        family: RefreshFamily,
        old_digest: str,
        new_digest: str,
        now: int,
        client: ClientHints | None = None,
    ) -> bool:
        old = RefreshTokenItem(*keys.refresh_token(family.id, old_digest))
        # The family's list keys are (re)set on each use too, so a family started before the
        # sessions list existed appears in it from its next refresh on.
        used: list[Any] = [
            RefreshFamilyItem.last_used_at.set(now),
            RefreshFamilyItem.gsi1pk.set(keys.refresh_families_of_user(family.user_id)),
            RefreshFamilyItem.gsi1sk.set(keys.user_refresh_family_sort(family.created_at, family.id)),
        ]
        if client is not None and client.ip:
            used.append(RefreshFamilyItem.ip.set(client.ip))
        if client is not None and client.user_agent:
            used.append(RefreshFamilyItem.user_agent.set(client.user_agent))
        # Any failed condition (the token used or gone, the family revoked) is a refused rotation.
        with translate(on_condition=SKIP, unavailable=UNAVAILABLE) as write:
            with TransactWrite(connection=connection()) as tx:
                # The old token must exist and be unused: the condition is what makes a
                # token single-use under concurrency (the service read alone cannot).
                tx.update(
                    old,
                    actions=[RefreshTokenItem.used_at.set(now)],
                    condition=RefreshTokenItem.pk.exists() & RefreshTokenItem.used_at.does_not_exist(),
                )
                tx.save(
                    self._token_item(family, new_digest, family.expires_at),
                    condition=RefreshTokenItem.pk.does_not_exist(),
                )
                tx.update(
                    RefreshFamilyItem(*keys.refresh_family(family.id)),
                    actions=used,
                    condition=RefreshFamilyItem.revoked == False,  # noqa: E712
                )
        return not write.condition_failed

    def revoke(self, family_id: str, reason: str) -> None:
        # A failed condition: gone already (expired and deleted), nothing left to revoke.
        with translate(on_condition=SKIP, unavailable=UNAVAILABLE):
            RefreshFamilyItem(*keys.refresh_family(family_id)).update(
                actions=_revoked(reason), condition=RefreshFamilyItem.pk.exists()
            )

    def revoke_for_user(self, user_id: str, family_id: str, reason: str) -> bool:
        with translate(on_condition=SKIP, unavailable=UNAVAILABLE) as update:
            # The owner check is in the write's condition: another user's family id fails it
            # exactly like an unknown one, so the answer cannot tell them apart.
            RefreshFamilyItem(*keys.refresh_family(family_id)).update(
                actions=_revoked(reason),
                condition=RefreshFamilyItem.pk.exists() & (RefreshFamilyItem.user_id == user_id),
            )
        return not update.condition_failed

    def list_for_user(self, user_id: str, page: PageRequest) -> Page[RefreshFamily]:
        if self._cursors is None:
            raise RuntimeError("this store was built without a cursor codec (use bootstrap.accounts())")
        with translate(unavailable=UNAVAILABLE):
            found, cursor = query_page(
                self._cursors,
                RefreshFamilyItem.gsi1.query,
                keys.refresh_families_of_user(user_id),
                RefreshFamilyItem.gsi1sk.startswith(keys.REFRESH_FAMILY_SORT_PREFIX),
                scope=f"sessions-of:{user_id}",
                page=page,
                scan_index_forward=False,
            )
        return Page(items=[_family(item) for item in found], next_cursor=cursor)

    @staticmethod
    def _token_item(family: RefreshFamily, digest: str, expires_at: int) -> RefreshTokenItem:
        return RefreshTokenItem(
            *keys.refresh_token(family.id, digest),
            kind="refresh_token",
            ttl=expires_at,
            family_id=family.id,
            user_id=family.user_id,
            expires_at=expires_at,
            created_at=iso(utcnow()),
        )
