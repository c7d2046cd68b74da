"""Users: the profile item and the email claim that keeps an email unique.

Create is one transaction of two conditional puts: ``USER#<id>/PROFILE`` and
``EMAIL#<email>/CLAIM``. A GSI on the email could not enforce uniqueness (it is eventually
consistent and accepts duplicates), the claim item can. Lookup by email is two
consistent GetItems: the claim, then the profile it names.
"""

from __future__ import annotations

from typing import Any

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys, prefetch
from mamba.adapters.dynamo.errors import Cancellation, get_or_none, translate
from mamba.adapters.dynamo.items import EmailClaimItem, MainItem, UserItem
from mamba.domain.accounts import User
from mamba.domain.clock import iso, utcnow
from mamba.domain.errors import ConflictError, NotFoundError


def connection() -> Connection:
    """The low-level connection of the bound table (region and endpoint follow ``items.bind``)."""
    return MainItem._get_connection().connection


def _now_iso() -> str:
    return iso(utcnow())


def user_record(item: UserItem) -> User:
    return User(
        id=item.user_id,
        email=item.email,
        created_at=item.created_at,
        name=item.name,
        password_hash=item.password_hash,
        is_admin=bool(item.is_admin),
        email_verified=bool(item.email_verified),
        status=item.status,
        sessions_valid_after=int(item.sessions_valid_after) if item.sessions_valid_after is not None else None,
        totp_enabled=bool(item.totp_enabled),
        failed_logins=int(item.failed_logins or 0),
        locked_until=int(item.locked_until) if item.locked_until is not None else None,
        pending_email=item.pending_email,
        credentials_reset_at=item.credentials_reset_at,
        # Never below zero: a notification that expired unread leaves the count high, not low.
        unread_notifications=max(0, int(item.unread_notifications or 0)),
        passkeys=int(item.passkey_count or 0),
    )


def new_user_items(user: User) -> tuple[UserItem, EmailClaimItem]:
    """A new account's profile and email claim, to be put together (with ``does_not_exist``
    conditions) by ``add`` or by a transaction that creates more with it (a sign-in with an
    identity provider creates the account and links the identity at once)."""
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
    return profile, claim


class DynamoUserRepository:
    def add(self, user: User) -> None:
        profile, claim = new_user_items(user)

        def refused(cancelled: Cancellation) -> ConflictError | None:
            # One reason per put, in the order below: [profile, claim].
            if cancelled.failed(1):
                return ConflictError("An account with this email already exists.", {"field": "email"})
            if cancelled.failed(0):
                return ConflictError("The user already exists.", {"user_id": user.id})
            return None

        with translate(on_cancel=refused, unavailable="The account could not be saved; try again."):
            with TransactWrite(connection=connection()) as tx:
                # Neither put may overwrite: the claim is what makes the email unique, and the
                # profile condition stops a reused id from replacing another account.
                tx.save(profile, condition=UserItem.pk.does_not_exist())
                tx.save(claim, condition=EmailClaimItem.pk.does_not_exist())

    def get(self, user_id: str) -> User:
        ahead = prefetch.take(keys.user(user_id))  # the caller, read by the guard in this request (a read)
        if ahead is not None and ahead.item is not None:
            return user_record(UserItem.from_raw_data(ahead.item))
        with translate(on_missing=NotFoundError("User not found.", {"user_id": user_id})):
            return user_record(UserItem.get(*keys.user(user_id), consistent_read=True))

    def find_by_email(self, email: str) -> User | None:
        claim = get_or_none(EmailClaimItem, *keys.email_claim(email), consistent_read=True)
        if claim is None:
            return None
        try:
            return self.get(claim.user_id)
        except NotFoundError:
            return None

    def set_admin(self, user_id: str, is_admin: bool) -> None:
        self._update(user_id, [UserItem.is_admin.set(is_admin)])

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self._update(user_id, [UserItem.password_hash.set(password_hash)])

    def set_name(self, user_id: str, name: str | None) -> None:
        self._update(user_id, [UserItem.name.set(name) if name is not None else UserItem.name.remove()])

    def set_pending_email(self, user_id: str, email: str | None) -> None:
        action = UserItem.pending_email.set(email) if email is not None else UserItem.pending_email.remove()
        self._update(user_id, [action])

    def mark_email_verified(self, user_id: str, email: str) -> bool:
        try:
            # Only while the account still has this email: a link for an old address must
            # not verify the one that replaced it.
            self._update(user_id, [UserItem.email_verified.set(True)], UserItem.email == email)
        except NotFoundError:
            return False
        return True

    def change_email(self, user_id: str, old_email: str, new_email: str) -> None:
        pk, sk = keys.user(user_id)
        new_pk, new_sk = keys.email_claim(new_email)
        now = _now_iso()
        claim = EmailClaimItem(new_pk, new_sk, kind="email_claim", email=new_email, user_id=user_id, created_at=now)

        def refused(cancelled: Cancellation) -> ConflictError | None:
            # pynamodb sends deletes, then puts, then updates: [old claim, new claim, profile].
            if cancelled.failed(1):
                return ConflictError("An account with this email already exists.", {"field": "email"})
            if cancelled.failed():
                return ConflictError("The account's email changed meanwhile; try again.", {"field": "email"})
            return None

        with translate(on_cancel=refused, unavailable="The email could not be changed; try again."):
            with TransactWrite(connection=connection()) as tx:
                # Claim the new address unless someone has it; release the old claim only if
                # it is this user's; move the profile only if its email is still the old one.
                tx.save(claim, condition=EmailClaimItem.pk.does_not_exist())
                tx.delete(EmailClaimItem(*keys.email_claim(old_email)), condition=EmailClaimItem.user_id == user_id)
                tx.update(
                    UserItem(pk, sk),
                    actions=[
                        UserItem.email.set(new_email),
                        UserItem.email_verified.set(True),
                        UserItem.pending_email.remove(),
                    ],
                    condition=UserItem.email == old_email,
                )

    def delete(self, user_id: str, email: str) -> None:
        """Delete the account and free its email, in one transaction: the profile (on
        ``email`` = the one read, so an email change meanwhile fails and is retried) and the
        email claim (only if it is this user's). Raises ConflictError when the account changed
        meanwhile; deleting an account that is gone already is not an error."""
        pk, sk = keys.user(user_id)
        with translate(
            on_condition=ConflictError("The account changed meanwhile; try again.", {"reason": "concurrent"}),
            unavailable="The account could not be deleted; try again.",
        ):
            with TransactWrite(connection=connection()) as tx:
                tx.delete(
                    EmailClaimItem(*keys.email_claim(email)),
                    condition=EmailClaimItem.pk.does_not_exist() | (EmailClaimItem.user_id == user_id),
                )
                tx.delete(UserItem(pk, sk), condition=UserItem.pk.does_not_exist() | (UserItem.email == email))

    def reset_password(
        self,
        user_id: str,
        password_hash: str,
        sessions_valid_after: int,
        *,
        credentials_reset_at: str | None = None,
        take_over: bool = False,
    ) -> None:
        actions: list[Any] = [
            UserItem.password_hash.set(password_hash),
            UserItem.sessions_valid_after.set(sessions_valid_after),
            UserItem.failed_logins.set(0),
            UserItem.locked_until.remove(),
        ]
        if credentials_reset_at is not None:
            actions.append(UserItem.credentials_reset_at.set(credentials_reset_at))
        if take_over:
            # The unverified holder's 2FA and pending change go in the same write as its
            # password: the mailbox's owner never finds the account half taken over.
            actions += [
                UserItem.totp_enabled.set(False),
                UserItem.totp_secret.remove(),
                UserItem.totp_pending_secret.remove(),
                UserItem.totp_last_counter.remove(),
                UserItem.totp_enabled_at.remove(),
                UserItem.recovery_code_hashes.remove(),
                UserItem.pending_email.remove(),
            ]
        self._update(user_id, actions)

    def revoke_sessions(self, user_id: str, valid_after: int) -> None:
        self._update(user_id, [UserItem.sessions_valid_after.set(valid_after)])

    def record_login_failure(self, user_id: str) -> int:
        # ADD is atomic: concurrent failures from many containers are all counted.
        item = self._update(user_id, [UserItem.failed_logins.add(1)])
        return int(item.failed_logins or 0)

    def lock(self, user_id: str, until: int, threshold: int) -> bool:
        try:
            # The condition makes exactly one of several concurrent failures the one that
            # locks (and mails); the count restarts so the next lock needs a full run again.
            self._update(
                user_id,
                [UserItem.locked_until.set(until), UserItem.failed_logins.set(0)],
                UserItem.failed_logins >= threshold,
            )
        except NotFoundError:
            return False
        return True

    def clear_login_failures(self, user_id: str) -> None:
        self._update(user_id, [UserItem.failed_logins.set(0), UserItem.locked_until.remove()])

    def _update(self, user_id: str, actions: list[Any], condition: Any = None) -> UserItem:
        item = UserItem(*keys.user(user_id))
        # pk.exists(): an update must never create a half-formed profile for an unknown id.
        guard = UserItem.pk.exists() if condition is None else UserItem.pk.exists() & condition
        with translate(
            on_condition=NotFoundError("User not found.", {"user_id": user_id}),
            unavailable="The account could not be updated; try again.",
        ):
            item.update(actions=actions, condition=guard)
        return item
