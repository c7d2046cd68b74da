"""Sign-in with an identity provider: started flows, callback tickets and linked identities in
the main table (docs/oauth.md, data-model.md patterns A-OAUTH-1..4).

* A flow's state and a ticket are single use: taking one is a DeleteItem with
  ``attribute_exists(pk)`` and ``ReturnValues=ALL_OLD``, so of two requests with the same
  state (a replayed callback) only one gets it. Their ``ttl`` lets DynamoDB drop unused ones;
  the service still compares ``expires_at``, because TTL deletion runs late.
* A linked identity is two items written in one transaction: ``USER#<id>/IDENTITY#<p>#<sub>``
  (listed by one Query under the user) and the claim ``IDENTITY#<p>#<sub>/CLAIM`` whose
  conditional put makes a provider account belong to one panel account only. The claim holds
  the whole identity, so a sign-in finds its account with one GetItem.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, Cancellation, get_or_none, translate
from mamba.adapters.dynamo.items import EmailClaimItem, MainItem, UserItem
from mamba.adapters.dynamo.users import connection, new_user_items
from mamba.domain.accounts import User
from mamba.domain.errors import ConflictError, DomainError, NotFoundError
from mamba.domain.oauth import ExternalProfile, Identity, OAuthState, Ticket

UNAVAILABLE = "The sign-in could not be saved; try again."


class OAuthStateItem(MainItem):
    provider = UnicodeAttribute()
    binding = UnicodeAttribute()
    code_verifier = UnicodeAttribute()
    nonce = UnicodeAttribute()
    return_to = UnicodeAttribute()
    expires_at = NumberAttribute()
    intent = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    pending = UnicodeAttribute(null=True)


class OAuthTicketItem(MainItem):
    ticket_kind = UnicodeAttribute()
    user_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    return_to = UnicodeAttribute()
    expires_at = NumberAttribute()
    created = BooleanAttribute(default=False)
    profile = UnicodeAttribute(null=True)  # JSON of the ExternalProfile to link (prove, mail_link)


class IdentityItem(MainItem):
    """Both the identity under its user and its claim (same attributes, different keys)."""

    identity_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    subject = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    last_used_at = UnicodeAttribute(null=True)


def _take(model: type[MainItem], pk: str, sk: str) -> dict[str, Any] | None:
    # A failed condition: never stored, or taken already (the replay this guards against).
    with translate(on_condition=SKIP, unavailable=UNAVAILABLE) as delete:
        answer = model._get_connection().delete_item(pk, sk, condition=model.pk.exists(), return_values="ALL_OLD")
    if delete.condition_failed:
        return None
    return dict(answer.get("Attributes") or {})


def _profile_json(profile: ExternalProfile | None) -> str | None:
    if profile is None:
        return None
    return json.dumps(
        {
            "provider": profile.provider,
            "subject": profile.subject,
            "email": profile.email,
            "email_verified": profile.email_verified,
            "name": profile.name,
        }
    )


def _profile(raw: str | None) -> ExternalProfile | None:
    if not raw:
        return None
    data = json.loads(raw)
    return ExternalProfile(
        provider=data["provider"],
        subject=data["subject"],
        email=data.get("email"),
        email_verified=bool(data.get("email_verified")),
        name=data.get("name"),
    )


def _ticket(item: OAuthTicketItem) -> Ticket:
    return Ticket(
        kind=item.ticket_kind,  # type: ignore[arg-type]
        user_id=item.user_id,
        provider=item.provider,
        return_to=item.return_to,
        expires_at=int(item.expires_at),
        profile=_profile(item.profile),
        created=bool(item.created),
    )


def _identity(item: IdentityItem) -> Identity:
    return Identity(
        id=item.identity_id,
        user_id=item.user_id,
        provider=item.provider,
        subject=item.subject,
        email=item.email,
        created_at=item.created_at,
        last_used_at=item.last_used_at,
    )


def _identity_items(identity: Identity) -> tuple[IdentityItem, IdentityItem]:
    fields: dict[str, Any] = {
        "kind": "identity",
        "identity_id": identity.id,
        "user_id": identity.user_id,
        "provider": identity.provider,
        "subject": identity.subject,
        "email": identity.email,
        "created_at": identity.created_at,
        "last_used_at": identity.last_used_at,
    }
    own = IdentityItem(*keys.identity(identity.user_id, identity.provider, identity.subject), **fields)
    claim = IdentityItem(
        *keys.identity_claim(identity.provider, identity.subject), **{**fields, "kind": "identity_claim"}
    )
    return own, claim


def _taken() -> ConflictError:
    return ConflictError("This provider account is linked to another account.", {"reason": "identity_taken"})


class DynamoOAuthStore:
    # --- flows and tickets ---------------------------------------------------------------

    def put_state(self, digest: str, state: OAuthState) -> None:
        item = OAuthStateItem(
            *keys.oauth_state(digest),
            kind="oauth_state",
            ttl=state.expires_at,
            provider=state.provider,
            binding=state.binding,
            code_verifier=state.code_verifier,
            nonce=state.nonce,
            return_to=state.return_to,
            expires_at=state.expires_at,
            intent=state.intent,
            user_id=state.user_id,
            pending=state.pending,
        )
        with translate(unavailable=UNAVAILABLE):
            item.save(condition=OAuthStateItem.pk.does_not_exist())

    def take_state(self, digest: str) -> OAuthState | None:
        raw = _take(OAuthStateItem, *keys.oauth_state(digest))
        if raw is None:
            return None
        item = OAuthStateItem.from_raw_data(raw)
        return OAuthState(
            provider=item.provider,
            binding=item.binding,
            code_verifier=item.code_verifier,
            nonce=item.nonce,
            return_to=item.return_to,
            expires_at=int(item.expires_at),
            intent=item.intent,  # type: ignore[arg-type]
            user_id=item.user_id,
            pending=item.pending,
        )

    def put_ticket(self, digest: str, ticket: Ticket) -> None:
        item = OAuthTicketItem(
            *keys.oauth_ticket(digest),
            kind="oauth_ticket",
            ttl=ticket.expires_at,
            ticket_kind=ticket.kind,
            user_id=ticket.user_id,
            provider=ticket.provider,
            return_to=ticket.return_to,
            expires_at=ticket.expires_at,
            created=ticket.created,
            profile=_profile_json(ticket.profile),
        )
        with translate(unavailable=UNAVAILABLE):
            item.save(condition=OAuthTicketItem.pk.does_not_exist())

    def get_ticket(self, digest: str) -> Ticket | None:
        with translate(unavailable=UNAVAILABLE):
            item = get_or_none(OAuthTicketItem, *keys.oauth_ticket(digest), consistent_read=True)
        return _ticket(item) if item is not None else None

    def take_ticket(self, digest: str) -> Ticket | None:
        raw = _take(OAuthTicketItem, *keys.oauth_ticket(digest))
        return _ticket(OAuthTicketItem.from_raw_data(raw)) if raw is not None else None

    # --- identities ----------------------------------------------------------------------

    def find(self, provider: str, subject: str) -> Identity | None:
        with translate(unavailable=UNAVAILABLE):
            item = get_or_none(IdentityItem, *keys.identity_claim(provider, subject), consistent_read=True)
        return _identity(item) if item is not None else None

    def link(self, identity: Identity) -> None:
        """Raises ConflictError (``identity_taken``) when the provider account is linked already,
        NotFoundError when the account is gone."""
        own, claim = _identity_items(identity)

        def refused(cancelled: Cancellation) -> DomainError | None:
            # [condition check on the user, own, claim] in pynamodb's send order.
            if cancelled.failed(0):
                return NotFoundError("User not found.", {"user_id": identity.user_id})
            return _taken() if cancelled.failed() else None

        with translate(on_cancel=refused, unavailable=UNAVAILABLE):
            with TransactWrite(connection=connection()) as tx:
                tx.condition_check(UserItem, *keys.user(identity.user_id), condition=UserItem.pk.exists())
                tx.save(own, condition=IdentityItem.pk.does_not_exist())
                tx.save(claim, condition=IdentityItem.pk.does_not_exist())

    def create_user_with_identity(self, user: User, identity: Identity) -> None:
        """The account and its first identity in one transaction: never an account that cannot
        sign in, nor an identity without its account. Raises ConflictError: ``field=email`` when
        the address was taken meanwhile, ``identity_taken`` when the identity was."""
        profile, email_claim = new_user_items(user)
        own, claim = _identity_items(identity)

        def refused(cancelled: Cancellation) -> DomainError | None:
            # [profile, email claim, own, identity claim]
            if cancelled.failed(1):
                return ConflictError("An account with this email already exists.", {"field": "email"})
            if cancelled.failed(2, 3):
                return _taken()
            return ConflictError("The user already exists.", {"user_id": user.id}) if cancelled.failed(0) else None

        with translate(on_cancel=refused, unavailable=UNAVAILABLE):
            with TransactWrite(connection=connection()) as tx:
                tx.save(profile, condition=UserItem.pk.does_not_exist())
                tx.save(email_claim, condition=EmailClaimItem.pk.does_not_exist())
                tx.save(own, condition=IdentityItem.pk.does_not_exist())
                tx.save(claim, condition=IdentityItem.pk.does_not_exist())

    def list_for_user(self, user_id: str) -> list[Identity]:
        pk, _ = keys.user(user_id)
        with translate(unavailable=UNAVAILABLE):
            found = IdentityItem.query(
                pk, IdentityItem.sk.startswith(keys.IDENTITY_PREFIX), consistent_read=True, limit=100
            )
            return [_identity(item) for item in found]

    def unlink(self, identity: Identity) -> None:
        """Delete both items (idempotent: a gone identity is not an error)."""
        own, claim = _identity_items(identity)
        with translate(on_condition=SKIP, unavailable=UNAVAILABLE):
            with TransactWrite(connection=connection()) as tx:
                tx.delete(own)
                # Only the claim that still names this user: a relinked identity is someone else's now.
                tx.delete(claim, condition=IdentityItem.user_id == identity.user_id)

    def touch(self, identity: Identity, at: str) -> None:
        own, claim = _identity_items(identity)
        with translate(on_condition=SKIP, unavailable=UNAVAILABLE):
            claim.update(actions=[IdentityItem.last_used_at.set(at)], condition=IdentityItem.pk.exists())
        with translate(on_condition=SKIP, unavailable=UNAVAILABLE):
            own.update(actions=[IdentityItem.last_used_at.set(at)], condition=IdentityItem.pk.exists())
