"""A small world for the API-key, 2FA and audit tests, written straight to moto.

Every account's email is verified (creating API keys needs it).

* ``usr_alice``: owner of ``tn_a`` (has a password, for the 2FA disable tests);
* ``usr_vic``: viewer of ``tn_a``;
* ``usr_bob``: owner of ``tn_b``;
* ``usr_root``: platform admin.

``scratch_app`` adds tenant routes the product does not have yet (a server read, a power
action, a create answering 201 with an id, a failing write), declared through the real
``web.route`` so they go through the real guard and the real audit step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalice import Chalice

from mamba import bootstrap, web
from mamba.auth.tokens import issue_access

T0 = "2026-11-25T10:00:00Z"
PASSWORD = "correct horse battery staple"


@dataclass
class World:
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return bearer(self.tokens[who])


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}", "Content-Type": "application/json"}


def build_world() -> World:
    bootstrap.dynamo_tables()
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import MembershipItem
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.auth.passwords import hash_password
    from mamba.domain.accounts import User
    from mamba.domain.tenancy import Membership, Tenant

    users, tenants = DynamoUserRepository(), DynamoTenantRepository()
    # Verified emails: minting API keys needs one (docs/api-keys-2fa-audit.md).
    pw = hash_password(PASSWORD)
    users.add(User(id="usr_alice", email="alice@example.org", created_at=T0, password_hash=pw, email_verified=True))
    users.add(User(id="usr_vic", email="vic@example.org", created_at=T0, email_verified=True))
    users.add(User(id="usr_bob", email="bob@example.org", created_at=T0, email_verified=True))
    users.add(User(id="usr_root", email="root@example.org", created_at=T0, is_admin=True, email_verified=True))
    for owner, tenant_id in (("usr_alice", "tn_a"), ("usr_bob", "tn_b")):
        tenants.add_with_owner(
            Tenant(id=tenant_id, name=tenant_id, created_at=T0),
            Membership(tenant_id=tenant_id, user_id=owner, role="owner", created_at=T0),
        )
    MembershipItem(
        *keys.membership("tn_a", "usr_vic"),
        kind="membership",
        gsi1pk=keys.memberships_of_user("usr_vic"),
        gsi1sk=keys.user_membership_sort("tn_a"),
        tenant_id="tn_a",
        user_id="usr_vic",
        role="viewer",
        created_at=T0,
    ).save()
    secret = bootstrap.settings().jwt_secret
    return World(tokens={name: issue_access(f"usr_{name}", secret) for name in ("alice", "vic", "bob", "root")})


def create_key(client: Any, headers: dict[str, str], **body: Any) -> Any:
    body.setdefault("name", "test key")
    return client.http.post("/v1/me/api-keys", headers=headers, body=json.dumps(body))


SCRATCH = "/v1/tenants/{tenant_id}/scratch"


def scratch_app() -> Chalice:
    """Call inside ``web.registry_scope()``."""
    app = Chalice(app_name="scratch-security")
    app.register_middleware(web.http_middleware, "http")

    @web.route(app, f"{SCRATCH}/servers/{{server_id}}", "GET", permission="servers.read", summary="Read")
    def read_server(ctx: web.Ctx, tenant_id: str, server_id: str) -> dict[str, str]:
        return {"id": server_id}

    @web.route(app, f"{SCRATCH}/servers/{{server_id}}/power", "POST", permission="servers.power", summary="Power")
    def power_server(ctx: web.Ctx, tenant_id: str, server_id: str) -> dict[str, str]:
        return {"id": server_id, "state": "starting"}

    @web.route(app, f"{SCRATCH}/widgets", "POST", permission="servers.create", summary="Create", status=201)
    def create_widget(ctx: web.Ctx, tenant_id: str) -> dict[str, str]:
        return {"id": "wdg_1"}

    @web.route(app, f"{SCRATCH}/broken", "POST", permission="servers.update", summary="Fails")
    def break_widget(ctx: web.Ctx, tenant_id: str) -> None:
        raise KeyError("internal detail")

    @web.route(app, "/scratch/public", "POST", permission=web.PUBLIC, summary="Public")
    def public_write(ctx: web.Ctx) -> dict[str, bool]:
        return {"ok": True}

    return app
