"""API keys: ``APIKEY#<key_id>/KEY``, listed per user through gsi1 (``USER#<uid>``,
``APIKEY#<created_at>#<key_id>``, newest first).

The guard reads the key item by id in its BatchGetItem (``identity.py``); this adapter
writes it, lists it, revokes it and records its last use.
"""

from __future__ import annotations

import json
from typing import Any

from mamba.adapters.dynamo import keys, positions
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import ApiKeyItem
from mamba.domain.api_keys import ApiKey, KeyPage
from mamba.domain.errors import ConflictError, NotFoundError


def api_key_record(item: ApiKeyItem) -> ApiKey:
    return ApiKey(
        id=item.key_id,
        user_id=item.user_id,
        name=item.name,
        scopes=tuple(str(v) for v in item.scopes or ()),
        created_at=item.created_at,
        secret_hash=item.secret_hash,
        hint=item.hint,
        server_ids=tuple(str(v) for v in item.server_ids or ()),
        allowed_ips=tuple(str(v) for v in item.allowed_ips or ()),
        expires_at=int(item.expires_at) if item.expires_at is not None else None,
        revoked_at=item.revoked_at,
        last_used_at=int(item.last_used_epoch) if item.last_used_epoch is not None else None,
        last_used_ip=item.last_used_ip,
        replaced_by=item.replaced_by,
        key_format=item.key_format or "mamba",
        rights=tuple(sorted(json.loads(item.rights).items())) if item.rights else (),
    )


class DynamoApiKeyRepository:
    def add(self, key: ApiKey) -> None:
        item = self._item(key)
        with translate(
            on_condition=ConflictError("The API key already exists.", {"key_id": key.id}),
            unavailable="The API key could not be saved; try again.",
        ):
            # A key id is minted once; never overwrite another key's hash.
            item.save(condition=ApiKeyItem.pk.does_not_exist())

    def get(self, user_id: str, key_id: str) -> ApiKey:
        missing = NotFoundError("API key not found.", {"key_id": key_id})
        with translate(on_missing=missing, unavailable="The API key could not be read; try again."):
            item = ApiKeyItem.get(*keys.api_key(key_id), consistent_read=True)
        if item.user_id != user_id:
            raise missing
        return api_key_record(item)

    def rotate(self, old: ApiKey, new: ApiKey, old_expires_at: int) -> None:
        from pynamodb.transactions import TransactWrite

        from mamba.adapters.dynamo.users import connection

        old_item = ApiKeyItem(*keys.api_key(old.id))
        # The old key is still the one the rotation was decided on: its owner's, unrevoked, not
        # rotated yet and with the expiry read (a concurrent rotation or revocation wins alone).
        unchanged = (
            ApiKeyItem.pk.exists()
            & (ApiKeyItem.user_id == old.user_id)
            & ApiKeyItem.revoked_at.does_not_exist()
            & ApiKeyItem.replaced_by.does_not_exist()
        )
        unchanged &= (
            ApiKeyItem.expires_at.does_not_exist()
            if old.expires_at is None
            else ApiKeyItem.expires_at == old.expires_at
        )
        with translate(
            on_condition=ConflictError(
                "The key was revoked, rotated or changed meanwhile.", {"key_id": old.id, "reason": "concurrent"}
            ),
            unavailable="The API key could not be rotated; try again.",
        ):
            with TransactWrite(connection=connection()) as tx:
                tx.save(self._item(new), condition=ApiKeyItem.pk.does_not_exist())
                tx.update(
                    old_item,
                    actions=[ApiKeyItem.expires_at.set(old_expires_at), ApiKeyItem.replaced_by.set(new.id)],
                    condition=unchanged,
                )

    @staticmethod
    def _item(key: ApiKey) -> ApiKeyItem:
        pk, sk = keys.api_key(key.id)
        return ApiKeyItem(
            pk,
            sk,
            kind="api_key",
            gsi1pk=keys.api_keys_of_user(key.user_id),
            gsi1sk=keys.user_api_key_sort(key.created_at, key.id),
            key_id=key.id,
            user_id=key.user_id,
            name=key.name,
            secret_hash=key.secret_hash,
            hint=key.hint,
            scopes=list(key.scopes),
            server_ids=list(key.server_ids) or None,
            allowed_ips=list(key.allowed_ips) or None,
            expires_at=key.expires_at,
            created_at=key.created_at,
            key_format=None if key.key_format == "mamba" else key.key_format,
            rights=json.dumps(dict(key.rights), sort_keys=True) if key.rights else None,
        )

    def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> KeyPage:
        return keys_of_owner(user_id, limit, cursor, unavailable="The API keys could not be listed; try again.")

    def revoke(self, user_id: str, key_id: str, at: str) -> ApiKey:
        item = ApiKeyItem(*keys.api_key(key_id))
        with translate(
            on_condition=NotFoundError("API key not found.", {"key_id": key_id}),
            unavailable="The API key could not be revoked; try again.",
        ):
            # Only the owner's key; if_not_exists keeps the first revocation time on a repeat.
            item.update(
                actions=[ApiKeyItem.revoked_at.set(ApiKeyItem.revoked_at | at)],
                condition=ApiKeyItem.pk.exists() & (ApiKeyItem.user_id == user_id),
            )
        return api_key_record(item)

    def revoke_all(self, user_id: str, at: str) -> int:
        """Every page of the user's keys, each unrevoked one revoked like ``revoke``. A key
        missed here (created meanwhile, a failed write) is still refused by the guard, which
        compares its creation with the user's ``credentials_reset_at``."""
        revoked, cursor = 0, None
        while True:
            page = self.list_for_user(user_id, positions.MAX_LIMIT, cursor)
            for key in page.items:
                if key.revoked_at is None:
                    self.revoke(user_id, key.id, at)
                    revoked += 1
            cursor = page.next_cursor
            if cursor is None:
                return revoked

    def touch(self, key_id: str, epoch: int, source_ip: str, min_interval: int) -> None:
        actions: list[Any] = [ApiKeyItem.last_used_epoch.set(epoch)]
        actions.append(ApiKeyItem.last_used_ip.set(source_ip) if source_ip else ApiKeyItem.last_used_ip.remove())
        # A failed condition: another request recorded a use within the interval (nothing to do).
        with translate(on_condition=SKIP, unavailable="The key's last use could not be recorded."):
            # Throttle across containers: only when the recorded use is at least min_interval old,
            # so a busy key costs one write a minute, not one per request.
            ApiKeyItem(*keys.api_key(key_id)).update(
                actions=actions,
                condition=ApiKeyItem.pk.exists()
                & (ApiKeyItem.last_used_epoch.does_not_exist() | (ApiKeyItem.last_used_epoch <= epoch - min_interval)),
            )


def keys_of_owner(
    owner_id: str, limit: int, cursor: str | None, *, unavailable: str, condition: Any | None = None
) -> KeyPage:
    """A page of the keys of a user or a service account, newest first (one Query on gsi1).
    ``condition`` filters in the same Query, so the next position is the Query's last key read
    (with a filter, the last item read may not be among the page's items)."""
    gsi1pk = keys.api_keys_of_user(owner_id)
    start = None
    position = positions.decode(cursor, 2)
    if position is not None:
        created_at, key_id = position
        pk, sk = keys.api_key(key_id)
        start = {
            "pk": {"S": pk},
            "sk": {"S": sk},
            "gsi1pk": {"S": gsi1pk},
            "gsi1sk": {"S": keys.user_api_key_sort(created_at, key_id)},
        }
    with translate(unavailable=unavailable):
        results = ApiKeyItem.gsi1.query(
            gsi1pk,
            ApiKeyItem.gsi1sk.startswith(keys.API_KEY_SORT_PREFIX),
            filter_condition=condition,
            scan_index_forward=False,
            page_size=max(1, min(limit, positions.MAX_LIMIT)),
            last_evaluated_key=start,
        )
        raw, last = positions.first_page(results)
    items = [api_key_record(ApiKeyItem.from_raw_data(r)) for r in raw]
    next_cursor = None
    if last:
        sort = str(last["gsi1sk"]["S"])[len(keys.API_KEY_SORT_PREFIX) :]
        last_created, _, last_id = sort.rpartition("#")
        next_cursor = positions.encode([last_created, last_id])
    return KeyPage(items=items, next_cursor=next_cursor)
