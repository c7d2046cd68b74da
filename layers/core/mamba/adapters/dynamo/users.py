"""Users: the profile item and the email claim that keeps an email unique.

Create is one transaction of two conditional puts: ``USER#<id>/PROFILE`` and
``EMAIL#<email>/CLAIM``. A GSI on the email could not enforce uniqueness (it is eventually
consistent and accepts duplicates), the claim item can. Lookup by email is two
consistent GetItems: the claim, then the profile it names.
"""

from __future__ import annotations

from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PynamoDBConnectionError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.items import EmailClaimItem, MainItem, UserItem
from mamba.domain.errors import ConflictError, DependencyUnavailableError, NotFoundError
from mamba.services.accounts import User

CONDITION_FAILED = "ConditionalCheckFailed"


def connection() -> Connection:
    """The low-level connection of the bound table (region and endpoint follow ``items.bind``)."""
    return MainItem._get_connection().connection


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """One code per transaction item, in order (``None`` for items that were not the reason)."""
    try:
        return [reason.code if reason else None for reason in exc.cancellation_reasons]
    except AttributeError:  # the cause was not a cancelled transaction (a network error)
        return []


def _to_domain(item: UserItem) -> User:
    return User(
        id=item.user_id,
        email=item.email,
        created_at=item.created_at,
        name=item.name,
        password_hash=item.password_hash,
        is_admin=bool(item.is_admin),
        email_verified=bool(item.email_verified),
        status=item.status,
    )


class DynamoUserRepository:
    def add(self, user: User) -> None:
        pk, sk = keys.user(user.id)
        claim_pk, claim_sk = keys.email_claim(user.email)
        profile = UserItem(
            pk,
            sk,
            kind="user",
            gsi1pk=keys.ALL_USERS,
            gsi1sk=keys.created_sort(user.created_at, user.id),
            user_id=user.id,
            email=user.email,
            name=user.name,
            password_hash=user.password_hash,
            is_admin=user.is_admin,
            email_verified=user.email_verified,
            status=user.status,
            created_at=user.created_at,
        )
        claim = EmailClaimItem(
            claim_pk, claim_sk, kind="email_claim", email=user.email, user_id=user.id, created_at=user.created_at
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                # Neither put may overwrite: the claim is what makes the email unique, and the
                # profile condition stops a reused id from replacing another account.
                tx.save(profile, condition=UserItem.pk.does_not_exist())
                tx.save(claim, condition=EmailClaimItem.pk.does_not_exist())
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)  # one per put, in the order above: [profile, claim]
            if len(codes) == 2 and codes[1] == CONDITION_FAILED:
                raise ConflictError("An account with this email already exists.", {"field": "email"}) from exc
            if codes and codes[0] == CONDITION_FAILED:
                raise ConflictError("The user already exists.", {"user_id": user.id}) from exc
            raise DependencyUnavailableError("The account could not be saved; try again.") from exc

    def get(self, user_id: str) -> User:
        try:
            return _to_domain(UserItem.get(*keys.user(user_id), consistent_read=True))
        except DoesNotExist as exc:
            raise NotFoundError("User not found.", {"user_id": user_id}) from exc

    def find_by_email(self, email: str) -> User | None:
        try:
            claim = EmailClaimItem.get(*keys.email_claim(email), consistent_read=True)
        except DoesNotExist:
            return None
        try:
            return self.get(claim.user_id)
        except NotFoundError:
            return None

    def set_admin(self, user_id: str, is_admin: bool) -> None:
        self._update(user_id, [UserItem.is_admin.set(is_admin)])

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self._update(user_id, [UserItem.password_hash.set(password_hash)])

    def _update(self, user_id: str, actions: list[Any]) -> None:
        try:
            # pk.exists(): an update must never create a half-formed profile for an unknown id.
            UserItem(*keys.user(user_id)).update(actions=actions, condition=UserItem.pk.exists())
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise NotFoundError("User not found.", {"user_id": user_id}) from exc
            raise DependencyUnavailableError("The account could not be updated; try again.") from exc
        except PynamoDBConnectionError as exc:
            raise DependencyUnavailableError("The account could not be updated; try again.") from exc
