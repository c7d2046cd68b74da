"""Mailed single-use tokens (email verification, password reset), keyed by their SHA-256.

Redeeming is one DeleteItem with ``attribute_exists(pk)`` and ``ReturnValues=ALL_OLD``:
the delete that succeeds is the only one that gets the token's contents, so two requests
with the same link cannot both use it. The item's ``ttl`` lets DynamoDB remove unused
tokens; the service still compares ``expires_at``, because the TTL deletion runs late.
"""

from __future__ import annotations

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import OneTimeTokenItem
from mamba.domain.accounts import OneTimeToken


class DynamoOneTimeTokenStore:
    def add(self, digest: str, token: OneTimeToken) -> None:
        item = OneTimeTokenItem(
            *keys.one_time_token(digest),
            kind="one_time_token",
            ttl=token.expires_at,
            user_id=token.user_id,
            purpose=token.purpose,
            email=token.email,
            expires_at=token.expires_at,
            created_at=token.created_at,
        )
        with translate(unavailable="The link could not be created; try again."):
            # 256 random bits never collide; the condition only makes sure a put never
            # silently replaces another token.
            item.save(condition=OneTimeTokenItem.pk.does_not_exist())

    def consume(self, digest: str) -> OneTimeToken | None:
        pk, sk = keys.one_time_token(digest)
        # A failed condition: the token was never issued, or was consumed already.
        with translate(on_condition=SKIP, unavailable="The link could not be checked; try again.") as delete:
            answer = OneTimeTokenItem._get_connection().delete_item(
                pk, sk, condition=OneTimeTokenItem.pk.exists(), return_values="ALL_OLD"
            )
        if delete.condition_failed:
            return None
        item = OneTimeTokenItem.from_raw_data(answer.get("Attributes") or {})
        return OneTimeToken(
            user_id=item.user_id,
            purpose=item.purpose,
            expires_at=int(item.expires_at),
            created_at=item.created_at,
            email=item.email,
        )
