"""The world the tenancy API tests run in: users, tenants and helpers to call as them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from mamba import bootstrap
from mamba.auth.tokens import issue_access

T0 = "2026-11-25T10:00:00Z"


def add_user(user_id: str, *, verified: bool = True, is_admin: bool = False, totp: bool = False) -> str:
    """A user written straight to the table (registration is another suite's subject); its email."""
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.domain.accounts import User

    email = f"{user_id.removeprefix('usr_')}@example.org"
    DynamoUserRepository().add(User(id=user_id, email=email, created_at=T0, is_admin=is_admin, email_verified=verified))
    if totp:
        UserItem(*keys.user(user_id)).update(actions=[UserItem.totp_enabled.set(True)])
    return email


def bearer(user_id: str, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_access(user_id, bootstrap.settings().jwt_secret, **kwargs)}"}


def verify_sender() -> None:
    """moto's SES sends only from a verified identity, as SES in its sandbox does."""
    import boto3

    settings = bootstrap.settings()
    boto3.client("ses", region_name=settings.region).verify_email_identity(EmailAddress=settings.mail_from)


def sent_mail() -> list[Any]:
    from moto.ses.models import ses_backends

    return [m for regions in ses_backends.values() for backend in regions.values() for m in backend.sent_messages]


def mail_to(address: str) -> list[Any]:
    return [m for m in sent_mail() if address in (getattr(m, "destinations", None) or {}).get("ToAddresses", [])]


def token_in(message: Any) -> str:
    match = re.search(r"token=([A-Za-z0-9_.\-]+)", str(message.body))
    assert match, message.body
    return match.group(1)


@dataclass
class Api:
    """Calls the app as a given user, with JSON bodies."""

    client: Any
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_(self, user_id: str) -> dict[str, str]:
        if user_id not in self.headers:
            self.headers[user_id] = {**bearer(user_id), "Content-Type": "application/json"}
        return self.headers[user_id]

    def call(self, method: str, path: str, user_id: str | None, body: Any = None) -> Any:
        headers = self.as_(user_id) if user_id else {"Content-Type": "application/json"}
        data = json.dumps(body) if body is not None else None
        return getattr(self.client.http, method.lower())(path, headers=headers, body=data)

    def get(self, path: str, user_id: str | None) -> Any:
        return self.call("GET", path, user_id)

    def post(self, path: str, user_id: str | None, body: Any = None) -> Any:
        return self.call("POST", path, user_id, {} if body is None else body)

    def patch(self, path: str, user_id: str | None, body: Any) -> Any:
        return self.call("PATCH", path, user_id, body)

    def delete(self, path: str, user_id: str | None) -> Any:
        return self.call("DELETE", path, user_id)


def make_world(client: Any) -> Api:
    """alice owns tn_a; bob owns tn_b; carol and dave are verified users without tenants;
    mallory is unverified; root is a platform admin. Mail can be sent."""
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain.tenancy import Membership, Tenant

    bootstrap.dynamo_tables()
    verify_sender()
    for user_id in ("usr_alice", "usr_bob", "usr_carol", "usr_dave"):
        add_user(user_id)
    add_user("usr_mallory", verified=False)
    add_user("usr_root", is_admin=True)
    tenants = DynamoTenantRepository()
    for tenant_id, owner in (("tn_a", "usr_alice"), ("tn_b", "usr_bob")):
        tenants.add_with_owner(
            Tenant(id=tenant_id, name=f"Tenant {tenant_id[-1].upper()}", created_at=T0),
            Membership(tenant_id=tenant_id, user_id=owner, role="owner", created_at=T0),
        )
    return Api(client)


def join(api: Api, tenant_id: str, owner: str, user_id: str, email: str, role: str, **extra: Any) -> Any:
    """Invite ``user_id`` as ``owner`` and accept it; the accept response."""
    invited = api.post(f"/v1/tenants/{tenant_id}/members/invitations", owner, {"email": email, "role": role, **extra})
    assert invited.status_code == 201, invited.json_body
    accepted = api.post("/v1/invitations/accept", user_id, {"token": token_in(mail_to(email)[-1])})
    assert accepted.status_code == 200, accepted.json_body
    return accepted


def expire_grant(tenant_id: str, user_id: str) -> None:
    """Move a binding's expires_at into the past, as if its time had passed (no job runs)."""
    import time

    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import MembershipItem

    MembershipItem(*keys.membership(tenant_id, user_id)).update(
        actions=[MembershipItem.expires_at.set(int(time.time()) - 1)]
    )
