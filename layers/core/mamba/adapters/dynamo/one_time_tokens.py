"""Mailed single-use tokens (email verification, password reset), keyed by their SHA-256.

Redeeming is one DeleteItem with ``attribute_exists(pk)`` and ``ReturnValues=ALL_OLD``:
the delete that succeeds is the only one that gets the token's contents, so two requests
with the same link cannot both use it. The item's ``ttl`` lets DynamoDB remove unused
tokens; the service still compares ``expires_at``, because the TTL deletion runs late.
"""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, PutError, PynamoDBConnectionError

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import OneTimeTokenItem
from mamba.domain.accounts import OneTimeToken
from mamba.domain.errors import DependencyUnavailableError

CONDITION_FAILED = "ConditionalCheckFailedException"


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
        try:
            # 256 random bits never collide; the condition only makes sure a put never
            # silently replaces another token.
            item.save(condition=OneTimeTokenItem.pk.does_not_exist())
        except (PutError, PynamoDBConnectionError) as exc:
            raise DependencyUnavailableError("The link could not be created; try again.") from exc

    def consume(self, digest: str) -> OneTimeToken | None:
        pk, sk = keys.one_time_token(digest)
        try:
            answer = OneTimeTokenItem._get_connection().delete_item(
                pk, sk, condition=OneTimeTokenItem.pk.exists(), return_values="ALL_OLD"
            )
        except DeleteError as exc:
            if exc.cause_response_code == CONDITION_FAILED:
                return None
            raise DependencyUnavailableError("The link could not be checked; try again.") from exc
        except PynamoDBConnectionError as exc:
            raise DependencyUnavailableError("The link could not be checked; try again.") from exc
        item = OneTimeTokenItem.from_raw_data(answer.get("Attributes") or {})
        return OneTimeToken(
            user_id=item.user_id,
            purpose=item.purpose,
            expires_at=int(item.expires_at),
            created_at=item.created_at,
            email=item.email,
        )
