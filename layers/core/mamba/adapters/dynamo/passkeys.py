"""Passkeys (``USER#<uid>/PASSKEY#<pid>``) and WebAuthn challenges (``WEBAUTHN#<id>/CHALLENGE``)
in the main table (docs/data-model.md, docs/passkeys.md).

The user item counts the passkeys (``passkey_count``): adding one is a transaction of the
passkey's conditional put and the user's ``ADD 1`` under the cap; deleting one is the
conditional delete and ``ADD -1``. So the count the guard reads (whether the user has a second
factor) never disagrees with the passkeys there are, and parallel registrations cannot pass
the cap. Item classes live here, not in items.py: only the passkey routes load them.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, Answer, Cancellation, get_or_none, translate
from mamba.adapters.dynamo.items import MainItem, UserItem
from mamba.adapters.dynamo.users import connection
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.passkeys import Challenge, Passkey, PasskeyLimitError


class PasskeyItem(MainItem):
    user_id = UnicodeAttribute()
    passkey_id = UnicodeAttribute()
    name = UnicodeAttribute()
    credential_id = UnicodeAttribute()  # base64url
    public_key = UnicodeAttribute()  # base64url of the COSE key
    sign_count = NumberAttribute(default=0)
    backup_eligible = BooleanAttribute(default=False)
    backed_up = BooleanAttribute(default=False)
    transports = UnicodeSetAttribute(null=True)
    aaguid = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    last_used_at = UnicodeAttribute(null=True)


class WebauthnChallengeItem(MainItem):
    challenge_id = UnicodeAttribute()
    purpose = UnicodeAttribute()
    challenge = UnicodeAttribute()
    expires_at = NumberAttribute()
    user_id = UnicodeAttribute(null=True)


def _record(item: PasskeyItem) -> Passkey:
    return Passkey(
        id=item.passkey_id,
        user_id=item.user_id,
        name=item.name,
        credential_id=item.credential_id,
        public_key=item.public_key,
        sign_count=int(item.sign_count or 0),
        created_at=item.created_at,
        backup_eligible=bool(item.backup_eligible),
        backed_up=bool(item.backed_up),
        transports=tuple(sorted(item.transports or ())),
        aaguid=item.aaguid,
        last_used_at=item.last_used_at,
    )


class DynamoPasskeyStore:
    def add(self, passkey: Passkey, limit: int) -> None:
        item = PasskeyItem(
            *keys.passkey(passkey.user_id, passkey.id),
            kind="passkey",
            user_id=passkey.user_id,
            passkey_id=passkey.id,
            name=passkey.name,
            credential_id=passkey.credential_id,
            public_key=passkey.public_key,
            sign_count=passkey.sign_count,
            backup_eligible=passkey.backup_eligible,
            backed_up=passkey.backed_up,
            transports=set(passkey.transports) or None,
            aaguid=passkey.aaguid,
            created_at=passkey.created_at,
        )
        user = UserItem(*keys.user(passkey.user_id))
        # Sent as put (position 0), then update (1).
        under_cap = UserItem.pk.exists() & (UserItem.passkey_count.does_not_exist() | (UserItem.passkey_count < limit))

        def refused(cancelled: Cancellation) -> Answer:
            if cancelled.failed(0):
                return ConflictError("This passkey is registered already.", {"reason": "passkey_exists"})
            if cancelled.failed(1):
                if get_or_none(UserItem, *keys.user(passkey.user_id), attributes_to_get=["pk"]) is None:
                    return NotFoundError("User not found.", {"user_id": passkey.user_id})
                return PasskeyLimitError(f"An account can have at most {limit} passkeys.", {"limit": limit})
            if cancelled.concurrent:
                return ConflictError("The account changed at the same time; try again.", {"reason": "concurrent"})
            return None

        with translate(on_cancel=refused, unavailable="The passkey could not be saved; try again."):
            with TransactWrite(connection=connection()) as tx:
                tx.save(item, condition=PasskeyItem.pk.does_not_exist())
                tx.update(user, actions=[UserItem.passkey_count.add(1)], condition=under_cap)

    def list(self, user_id: str) -> list[Passkey]:
        pk, _ = keys.user(user_id)
        with translate(unavailable="The passkeys could not be read; try again."):
            found = [
                _record(item)
                for item in PasskeyItem.query(pk, PasskeyItem.sk.startswith(keys.PASSKEY_PREFIX), consistent_read=True)
            ]
        return sorted(found, key=lambda p: (p.created_at, p.id))

    def get(self, user_id: str, passkey_id: str) -> Passkey | None:
        if not passkey_id.startswith("pk_"):
            return None
        with translate(unavailable="The passkey could not be read; try again."):
            item = get_or_none(PasskeyItem, *keys.passkey(user_id, passkey_id), consistent_read=True)
        return _record(item) if item is not None else None

    def rename(self, user_id: str, passkey_id: str, name: str) -> Passkey:
        missing = NotFoundError("Passkey not found.", {"passkey_id": passkey_id})
        if not passkey_id.startswith("pk_"):
            raise missing
        item = PasskeyItem(*keys.passkey(user_id, passkey_id))
        with translate(on_condition=missing, unavailable="The passkey could not be saved; try again."):
            item.update(actions=[PasskeyItem.name.set(name)], condition=PasskeyItem.pk.exists())
        return _record(item)

    def delete(self, user_id: str, passkey_id: str) -> bool:
        if not passkey_id.startswith("pk_"):
            return False
        item = PasskeyItem(*keys.passkey(user_id, passkey_id))
        user = UserItem(*keys.user(user_id))
        with translate(on_cancel=lambda c: SKIP if c.failed() else None, unavailable="Try again.") as write:
            with TransactWrite(connection=connection()) as tx:
                tx.delete(item, condition=PasskeyItem.pk.exists())
                tx.update(user, actions=[UserItem.passkey_count.add(-1)], condition=UserItem.pk.exists())
        return write.cancellation is None and not write.condition_failed

    def delete_all(self, user_id: str) -> int:
        gone = 0
        for passkey in self.list(user_id):
            gone += int(self.delete(user_id, passkey.id))
        return gone

    def record_use(self, passkey: Passkey, sign_count: int, backed_up: bool, at: str) -> bool:
        item = PasskeyItem(*keys.passkey(passkey.user_id, passkey.id))
        actions: list[Any] = [
            PasskeyItem.sign_count.set(sign_count),
            PasskeyItem.backed_up.set(backed_up),
            PasskeyItem.last_used_at.set(at),
        ]
        # The counter read with the passkey: of two sign-ins racing with the same counter, one wins.
        same = PasskeyItem.pk.exists() & (PasskeyItem.sign_count == passkey.sign_count)
        with translate(on_condition=SKIP, unavailable="The passkey could not be saved; try again.") as update:
            item.update(actions=actions, condition=same)
        return not update.condition_failed

    def put_challenge(self, challenge: Challenge) -> None:
        item = WebauthnChallengeItem(
            *keys.webauthn_challenge(challenge.id),
            kind="webauthn_challenge",
            ttl=challenge.expires_at,
            challenge_id=challenge.id,
            purpose=challenge.purpose,
            challenge=challenge.challenge,
            expires_at=challenge.expires_at,
            user_id=challenge.user_id,
        )
        with translate(unavailable="The passkey ceremony could not start; try again."):
            item.save(condition=WebauthnChallengeItem.pk.does_not_exist())

    def take_challenge(self, challenge_id: str) -> Challenge | None:
        pk, sk = keys.webauthn_challenge(challenge_id)
        # One DeleteItem returning the old item: only the request whose delete succeeds gets it.
        with translate(on_condition=SKIP, unavailable="The passkey could not be checked; try again.") as delete:
            answer = WebauthnChallengeItem._get_connection().delete_item(
                pk, sk, condition=WebauthnChallengeItem.pk.exists(), return_values="ALL_OLD"
            )
        if delete.condition_failed:
            return None
        item = WebauthnChallengeItem.from_raw_data(answer.get("Attributes") or {})
        return Challenge(
            id=item.challenge_id,
            purpose=item.purpose,
            challenge=item.challenge,
            expires_at=int(item.expires_at),
            user_id=item.user_id,
        )
