"""Refresh-token families: ``RFAMILY#<id>/FAMILY`` and one ``RFAMILY#<id>/TOKEN#<sha256>``
per token, in the family's partition so the family and a token are read together.

Rotation is one transaction: mark the presented token used (only if it is unused), put
the next token, and check the family is not revoked. Two requests presenting the same
token cannot both rotate it; the loser sees the condition fail, which the service treats
as reuse and answers by revoking the family. Items carry ``ttl`` = the family's expiry.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import MainItem, RefreshFamilyItem, RefreshTokenItem
from mamba.adapters.dynamo.users import connection
from mamba.domain.clock import iso, utcnow
from mamba.domain.errors import DependencyUnavailableError
from mamba.services.accounts import RefreshFamily, RefreshToken


def _unavailable() -> DependencyUnavailableError:
    return DependencyUnavailableError("The session store is unavailable; try again.")


def _batch_get(wanted: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Raw items by key, read consistently in one BatchGetItem (retrying unprocessed keys)."""
    table = MainItem.Meta.table_name
    client = MainItem._get_connection().connection.client
    request: dict[str, Any] = {
        table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in wanted], "ConsistentRead": True}
    }
    found: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        for _attempt in range(3):
            raw: dict[str, Any] = client.batch_get_item(RequestItems=request)
            for item in raw.get("Responses", {}).get(table, []):
                found[(item["pk"]["S"], item["sk"]["S"])] = item
            request = raw.get("UnprocessedKeys") or {}
            if not request:
                return found
    except (BotoCoreError, ClientError) as exc:
        raise _unavailable() from exc
    raise _unavailable()


class DynamoSessionStore:
    def start(self, family: RefreshFamily, token_digest: str) -> None:
        family_item = RefreshFamilyItem(
            *keys.refresh_family(family.id),
            kind="refresh_family",
            ttl=family.expires_at,
            family_id=family.id,
            user_id=family.user_id,
            issued_at=family.issued_at,
            expires_at=family.expires_at,
            created_at=family.created_at,
        )
        token_item = self._token_item(family, token_digest, family.expires_at)
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(family_item, condition=RefreshFamilyItem.pk.does_not_exist())
                tx.save(token_item, condition=RefreshTokenItem.pk.does_not_exist())
        except (TransactWriteError, PynamoDBException) as exc:
            raise _unavailable() from exc

    def load(self, family_id: str, token_digest: str) -> tuple[RefreshFamily | None, RefreshToken | None]:
        family_key = keys.refresh_family(family_id)
        token_key = keys.refresh_token(family_id, token_digest)
        found = _batch_get([family_key, token_key])
        family = None
        if family_key in found:
            f = RefreshFamilyItem.from_raw_data(found[family_key])
            family = RefreshFamily(
                id=f.family_id,
                user_id=f.user_id,
                issued_at=int(f.issued_at),
                expires_at=int(f.expires_at),
                created_at=f.created_at,
                revoked=bool(f.revoked),
            )
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

    def rotate(self, family: RefreshFamily, old_digest: str, new_digest: str, now: int) -> bool:
        family_pk, family_sk = keys.refresh_family(family.id)
        old = RefreshTokenItem(*keys.refresh_token(family.id, old_digest))
        try:
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
                tx.condition_check(
                    RefreshFamilyItem,
                    family_pk,
                    family_sk,
                    condition=RefreshFamilyItem.revoked == False,  # noqa: E712
                )
        except TransactWriteError as exc:
            from mamba.adapters.dynamo.users import CONDITION_FAILED, cancellation_codes

            if CONDITION_FAILED in cancellation_codes(exc):
                return False
            raise _unavailable() from exc
        except PynamoDBException as exc:
            raise _unavailable() from exc
        return True

    def revoke(self, family_id: str, reason: str) -> None:
        try:
            RefreshFamilyItem(*keys.refresh_family(family_id)).update(
                actions=[RefreshFamilyItem.revoked.set(True), RefreshFamilyItem.revoked_reason.set(reason)],
                condition=RefreshFamilyItem.pk.exists(),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return  # gone already (expired and deleted): nothing left to revoke
            raise _unavailable() from exc
        except PynamoDBException as exc:
            raise _unavailable() from exc

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
