"""Every route of the app, walked: declared, guarded and tenant-isolated.

The walk is built from ``app.app.routes`` (what Chalice serves) and ``routes.REGISTRY`` (what
was declared through ``web.route``), so a route added by any later issue is covered with
no edit here. Each served (method, path) falls in exactly one class:

* **public**: declared ``PUBLIC`` and on the allow-list below; anything else public fails;
* **remote**: ``/api/remote/*``, the Wings callbacks, authenticated with node tokens; a
  user's access token must not open them;
* **tenant**: a tenant permission; the path carries ``{tenant_id}`` and the guard checks
  the caller's membership of it: no or bad credentials → 401, a member whose role lacks
  the permission → 403 ``FORBIDDEN``, a member of another tenant or an expired grant → 404,
  a subuser bound to another server → 403 on server routes;
* **admin**: an ``admin.*`` permission: 401 without credentials, 403 for a non-admin;
* **account**: an ``account.*`` permission: 401 without credentials, any verified user
  passes the guard.

The guard runs before the body is parsed, so every request sends ``{}`` and the expected
guard answer must come first. Path parameters are filled with the ids of the world built
below; a parameter the guard never reads (a resource id) gets a placeholder when the world
has no such resource, since the guard answers before any lookup.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

import app as app_module
from mamba import bootstrap, routes, web
from mamba.auth.tokens import issue_access
from mamba.domain import permissions as perms

# --- the route classes -----------------------------------------------------------------

# Public routes, explicitly. A route declared PUBLIC that matches none of these fails the
# walk: making a route public is a decision this list records.
PUBLIC_ALLOW_LIST: tuple[tuple[str, str], ...] = (
    ("GET", r"/health/(live|ready)"),
    ("GET", r"/openapi\.json"),
    ("GET", r"/docs"),
    ("GET", r"/docs/assets/\{name\}"),
    ("*", r"/v1/auth/.+"),  # register, login, refresh, logout, verify-email, password flows
    ("POST", r"/webhooks/stripe"),  # verified by its Stripe signature
    ("GET", r"/v1/plans"),  # the pricing page, before sign-up: names, display prices and quotas, no Stripe ids
)
REMOTE_PREFIX = "/api/remote/"  # Wings callbacks: node tokens, not user tokens


def served_routes() -> list[tuple[str, str]]:
    """Every (method, path) Chalice serves, sorted."""
    return sorted((method, path) for path, entry in app_module.app.routes.items() for method in entry)


def declared() -> dict[tuple[str, str], list[routes.RouteSpec]]:
    found: dict[tuple[str, str], list[routes.RouteSpec]] = {}
    for spec in routes.REGISTRY:
        found.setdefault((spec.method, spec.path), []).append(spec)
    return found


def spec_of(method: str, path: str) -> routes.RouteSpec:
    return declared()[(method, path)][0]


def is_allow_listed_public(method: str, path: str) -> bool:
    return any(m in ("*", method) and re.fullmatch(pattern, path) for m, pattern in PUBLIC_ALLOW_LIST)


def route_class(spec: routes.RouteSpec) -> str:
    if spec.door is not None:  # Pterodactyl's API: its own walk, tests/api/test_pterodactyl_route_walk.py
        return "pterodactyl"
    if spec.is_node or spec.path.startswith(REMOTE_PREFIX):
        return "remote"
    if spec.is_public:
        return "public"
    if perms.is_admin_permission(spec.permission):
        return "admin"
    if perms.is_account_permission(spec.permission):
        return "account"
    return "tenant"


def _served_specs() -> list[routes.RouteSpec]:
    found = declared()
    return [found[key][0] for key in served_routes() if key in found]


def specs_of(*classes: str) -> list[routes.RouteSpec]:
    return [spec for spec in _served_specs() if route_class(spec) in classes]


def _ids(specs: list[routes.RouteSpec]) -> list[str]:
    return [f"{spec.method} {spec.path}" for spec in specs]


def _params(specs: list[routes.RouteSpec]) -> Any:
    # An empty class is a broken walk (a renamed permission, a lost import), never a skip.
    assert specs, "a route class of the walk is empty"
    return [pytest.param(spec, id=name) for spec, name in zip(specs, _ids(specs), strict=True)]


GUARDED = specs_of("tenant", "admin", "account")
TENANT = specs_of("tenant")
SERVER = [spec for spec in TENANT if "{server_id}" in spec.path]
ADMIN = specs_of("admin")
ACCOUNT = specs_of("account")
REMOTE = specs_of("remote")

# --- the world the walk runs in ----------------------------------------------------------

T0 = "2026-11-25T10:00:00Z"
TENANT_A, TENANT_B = "tn_walk_a", "tn_walk_b"
SERVER_A = "srv_walk_a1"  # the server a server-scoped route is called on
OTHER_SERVER = "srv_walk_other"  # the server a subuser is bound to instead
OPERATION_A = "op_walk_a1"


@dataclass
class World:
    """Users, tenants and bindings the walk calls routes as, and the ids paths are filled with."""

    secret: str
    ids: dict[str, str] = field(default_factory=dict)
    counter: int = 0
    # API keys by owner: one scoped to servers.read only, one to tenant.read only.
    keys: dict[str, dict[str, str]] = field(default_factory=dict)

    def bearer(self, user_id: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_access(user_id, self.secret, **kwargs)}"}

    def fill(self, path: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: self.ids.get(m.group(1), f"walk_{m.group(1)}_0"), path)


def _add_user(user_id: str, *, is_admin: bool = False) -> None:
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.domain.accounts import User

    DynamoUserRepository().add(
        User(id=user_id, email=f"{user_id}@example.org", created_at=T0, is_admin=is_admin, email_verified=True)
    )


def _bind(
    tenant_id: str,
    user_id: str,
    role: str,
    permissions: list[str] | None,
    *,
    server_id: str | None = None,
    expires_at: int | None = None,
) -> None:
    """A role binding written directly, so the walk can hold custom, scoped and expired grants."""
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import MembershipItem

    pk, sk = keys.membership(tenant_id, user_id)
    MembershipItem(
        pk,
        sk,
        kind="membership",
        gsi1pk=keys.memberships_of_user(user_id),
        gsi1sk=keys.user_membership_sort(tenant_id),
        tenant_id=tenant_id,
        user_id=user_id,
        role=role,
        created_at=T0,
        permissions=permissions,
        server_id=server_id,
        expires_at=expires_at,
    ).save()


def build_world(client: Any) -> World:
    """Tenant A (owner alice, a no-permission member, an expired grant, a subuser of another
    server) and tenant B (owner bob); an admin; one operation of tenant A. Then, through the
    API: a custom role and an invitation of tenant A, and two narrow
    API keys each for alice and the admin."""
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain import operations as ops
    from mamba.domain.tenancy import Membership, Tenant

    bootstrap.dynamo_tables()
    for user_id in ("usr_alice", "usr_bob", "usr_carol", "usr_dave", "usr_erin"):
        _add_user(user_id)
    _add_user("usr_root", is_admin=True)
    tenants = DynamoTenantRepository()
    for tenant_id, owner in ((TENANT_A, "usr_alice"), (TENANT_B, "usr_bob")):
        tenants.add_with_owner(
            Tenant(id=tenant_id, name=tenant_id, created_at=T0),
            Membership(tenant_id=tenant_id, user_id=owner, role="owner", created_at=T0),
        )
    everything = sorted(perms.TENANT_PERMISSIONS)
    _bind(TENANT_A, "usr_carol", "nothing", [])  # a custom role with no permissions
    _bind(TENANT_A, "usr_dave", "owner", everything, expires_at=int(time.time()) - 60)  # a grant that ran out
    _bind(TENANT_A, "usr_erin", "owner", everything, server_id=OTHER_SERVER)  # a subuser of another server
    bootstrap.operation_repository().add(ops.new_operation(OPERATION_A, TENANT_A, "platform.check", ["dynamodb"], T0))
    world = World(secret=bootstrap.settings().jwt_secret)
    world.ids.update(
        {
            "tenant_id": TENANT_A,
            "server_id": SERVER_A,
            "op_id": OPERATION_A,
            "user_id": "usr_alice",
            "member_id": "usr_carol",
        }
    )
    _create_through_the_api(client, world)
    return world


NARROW_SCOPES = {"servers": ["servers.read"], "tenant": ["tenant.read"]}


def _create_through_the_api(client: Any, world: World) -> None:
    """Real ids for the path parameters, made by the product's own routes; a creation that
    fails stops the walk (a missing key or role would quietly turn its checks off)."""
    alice = {**world.bearer("usr_alice"), "Content-Type": "application/json"}
    creations: list[tuple[str, str, dict[str, Any], str]] = [
        ("/v1/tenants/{tenant_id}/roles", "role_id", {"name": "Walkers", "permissions": ["servers.read"]}, "id"),
        (
            "/v1/tenants/{tenant_id}/members/invitations",
            "invitation_id",
            {"email": "x@example.org", "role": "viewer"},
            "id",
        ),
    ]
    for path, name, body, field_name in creations:
        made = client.http.post(world.fill(path), headers=alice, body=json.dumps(body))
        assert made.status_code == 201, (path, made.status_code, made.body[:300])
        world.ids[name] = made.json_body[field_name]
    for owner in ("usr_alice", "usr_root"):
        headers = {**world.bearer(owner), "Content-Type": "application/json"}
        for label, scopes in NARROW_SCOPES.items():
            made = client.http.post(
                "/v1/me/api-keys", headers=headers, body=json.dumps({"name": f"walk {label}", "scopes": scopes})
            )
            assert made.status_code == 201, (made.status_code, made.body[:300])
            world.keys.setdefault(owner, {})[label] = made.json_body["key"]
            world.ids.setdefault("key_id", made.json_body["id"])


@dataclass
class Api:
    client: Any
    world: World

    def call(self, spec: routes.RouteSpec, headers: dict[str, str] | None = None, path: str | None = None) -> Any:
        all_headers = dict(headers or {})
        body = b""
        if spec.method not in ("GET", "HEAD", "DELETE"):
            all_headers["Content-Type"] = spec.content_type
            body = b"{}" if spec.content_type == "application/json" else b""
        return self.client.http.request(spec.method, path or self.world.fill(spec.path), headers=all_headers, body=body)

    def fresh_user(self) -> str:
        """A verified user of no tenant, new for each use: account routes run their views,
        and one of them may change or revoke the caller (log out everywhere, delete)."""
        self.world.counter += 1
        user_id = f"usr_fresh_{self.world.counter}"
        _add_user(user_id)
        return user_id


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """The real app on moto, once per module (and worker): the guard answers before any view
    runs, so the walk's denials change nothing and the world can be shared."""
    from tests.support import app_on_moto

    with app_on_moto() as client:
        yield Api(client, build_world(client))


@pytest.fixture
def billing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Billing routes answer 503 before the guard while billing is off; the walk needs the guard."""
    monkeypatch.setattr(web, "_check_billing_enabled", lambda: None)


def _error(response: Any) -> dict[str, Any]:
    body = response.json_body
    assert isinstance(body, dict) and "error" in body, (response.status_code, response.body[:300])
    return dict(body["error"])


def _tampered(token: str, **claims: Any) -> str:
    """Our token with its payload changed and the signature kept."""
    header, payload, signature = token.split(".")
    padded = payload + "=" * (-len(payload) % 4)
    decoded = json.loads(base64.urlsafe_b64decode(padded))
    forged = base64.urlsafe_b64encode(json.dumps({**decoded, **claims}).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


# --- (a) declaration -------------------------------------------------------------------


def test_every_served_route_is_declared_when_the_app_is_imported():
    # Given what Chalice serves and what web.route declared
    found = declared()
    # When a served route has no RouteSpec it never went through the guard wrapper
    undeclared = [f"{method} {path}" for method, path in served_routes() if (method, path) not in found]
    # Then
    assert not undeclared, f"routes added outside web.route (no permission, no guard): {undeclared}"
    assert served_routes(), "the app serves routes"


def test_every_declared_route_is_served_once_with_one_catalogue_permission_or_public():
    # Given the registry
    served = set(served_routes())
    # When
    problems = []
    for key, specs in declared().items():
        if len(specs) != 1:
            problems.append(f"{key} declared {len(specs)} times")
        if key not in served:
            problems.append(f"{key} declared but not served")
        for spec in specs:
            if spec.permission not in (routes.PUBLIC, routes.NODE) and spec.permission not in perms.CATALOGUE:
                problems.append(f"{key} declares {spec.permission!r}, which is not in the catalogue")
    # Then
    assert not problems


def test_public_routes_are_exactly_the_allow_listed_ones_when_any_route_is_public():
    # Given every route declared PUBLIC outside the Wings callbacks
    public = [spec for spec in _served_specs() if route_class(spec) == "public"]
    # When
    unexpected = [f"{spec.method} {spec.path}" for spec in public if not is_allow_listed_public(spec.method, spec.path)]
    # Then
    assert not unexpected, f"public routes that are not on the allow-list: {unexpected}"
    assert {spec.path for spec in public} >= {"/health/live", "/health/ready", "/openapi.json", "/docs"}


def test_tenant_permissions_are_declared_only_on_tenant_paths_and_admin_ones_only_under_admin():
    # Given the guard checks membership only when the path names a tenant, a tenant permission
    # on a path without {tenant_id} would be granted to anyone who is logged in
    problems = []
    for spec in _served_specs():
        kind = route_class(spec)
        if kind == "tenant" and not spec.path.startswith("/v1/tenants/{tenant_id}"):
            problems.append(f"{spec.method} {spec.path}: tenant permission {spec.permission} off a tenant path")
        if spec.path.startswith("/v1/tenants/{tenant_id}") and kind != "tenant":
            problems.append(
                f"{spec.method} {spec.path}: a tenant path declares {spec.permission} (no membership check)"
            )
        if spec.path.startswith("/v1/admin/") != (kind == "admin"):
            problems.append(f"{spec.method} {spec.path}: admin paths and admin.* permissions go together")
    # Then
    assert not problems


def test_remote_routes_and_node_authentication_go_together():
    # Given the Wings callbacks authenticate the node inside the view (NODE), never a user
    problems = [
        f"{spec.method} {spec.path}: {spec.permission}"
        for spec in _served_specs()
        if spec.path.startswith(REMOTE_PREFIX) != spec.is_node
    ]
    # Then every /api/remote route declares NODE and nothing else does
    assert not problems


# Fields a caller must never be able to set through a body: the tenant comes from the path
# and is checked against the caller's membership; admin rights and verification are granted
# by others (mamba create-admin, an admin, the mailed link).
PRIVILEGED_FIELDS = frozenset({"tenant_id", "is_admin", "email_verified"})


def test_no_request_body_outside_the_admin_api_can_name_a_tenant_or_grant_privileges():
    # Given every request model of a route that is not an admin route
    problems = []
    for spec in _served_specs():
        if spec.request_model is None or route_class(spec) == "admin":
            continue
        # When its fields are read (aliases included: they are what a client sends)
        fields = spec.request_model.model_fields
        names = set(fields) | {f.alias for f in fields.values() if f.alias}
        # Then none of them is privileged
        if names & PRIVILEGED_FIELDS:
            problems.append(f"{spec.method} {spec.path}: {sorted(names & PRIVILEGED_FIELDS)}")
    assert not problems


def test_route_classes_partition_every_served_route():
    # Given
    classes = {name: specs_of(name) for name in ("public", "remote", "tenant", "admin", "account", "pterodactyl")}
    # When
    total = sum(len(specs) for specs in classes.values())
    # Then every served route is in exactly one class, and the walk lists all guarded ones
    assert total == len(served_routes())
    assert len(GUARDED) == len(classes["tenant"]) + len(classes["admin"]) + len(classes["account"])


# --- coverage: the whole walk in one test ------------------------------------------------


def test_walk_reaches_every_non_public_route_and_each_answers_401_without_credentials(api, billing_on):
    # Given every served route that is not public (Wings callbacks included: they have their own auth)
    non_public = [spec for spec in _served_specs() if route_class(spec) != "public"]
    # When each is called with no credentials
    walked, failures = 0, []
    for spec in non_public:
        response = api.call(spec)
        walked += 1
        if response.status_code != 401:
            failures.append(f"{spec.method} {spec.path} → {response.status_code}")
    # Then every one refused, and the walk covered 100% of them
    assert not failures, failures
    assert walked == len(non_public) == len(served_routes()) - len(specs_of("public"))
    print(f"route walk: {walked}/{len(non_public)} non-public routes (100%)")


# --- (b) credentials ---------------------------------------------------------------------


@pytest.mark.parametrize("spec", _params(GUARDED))
def test_guarded_route_is_401_when_no_credentials_are_sent(api, billing_on, spec):
    # When
    response = api.call(spec)
    # Then
    assert response.status_code == 401, response.body[:300]
    assert _error(response)["code"] == "UNAUTHORIZED"
    assert _error(response)["details"]["reason"] == "missing_credentials"


@pytest.mark.parametrize("spec", _params(GUARDED))
def test_guarded_route_is_401_when_the_token_is_tampered(api, billing_on, spec):
    # Given alice's valid token with the subject changed to the admin's
    token = api.world.bearer("usr_alice")["Authorization"].removeprefix("Bearer ")
    forged = _tampered(token, sub="usr_root")
    # When
    response = api.call(spec, {"Authorization": f"Bearer {forged}"})
    # Then
    assert response.status_code == 401, response.body[:300]
    assert _error(response)["details"]["reason"] == "invalid"


@pytest.mark.parametrize("spec", _params(GUARDED))
def test_guarded_route_is_401_when_the_token_has_expired(api, billing_on, spec):
    # Given a token of the owner (and admin) that expired a minute ago
    user = "usr_root" if route_class(spec) == "admin" else "usr_alice"
    headers = api.world.bearer(user, now=int(time.time()) - 16 * 60)
    # When
    response = api.call(spec, headers)
    # Then
    assert response.status_code == 401, response.body[:300]
    assert _error(response)["details"]["reason"] == "expired"


# --- (c) tenant isolation and permissions ------------------------------------------------


@pytest.mark.parametrize("spec", _params(TENANT))
def test_tenant_route_is_403_forbidden_when_the_members_role_lacks_the_permission(api, billing_on, spec):
    # Given carol, a member of tenant A whose custom role grants nothing
    headers = api.world.bearer("usr_carol")
    # When
    response = api.call(spec, headers)
    # Then the guard refuses, naming the route's permission
    assert response.status_code == 403, response.body[:300]
    assert _error(response)["code"] == "FORBIDDEN"
    assert _error(response)["details"] == {"permission": spec.permission}


@pytest.mark.parametrize("spec", _params(TENANT))
def test_tenant_route_is_404_when_the_caller_is_a_member_of_another_tenant(api, billing_on, spec):
    # Given bob, the owner of tenant B (every permission there)
    headers = api.world.bearer("usr_bob")
    # When he calls tenant A's route
    response = api.call(spec, headers)
    # Then tenant A does not exist for him
    assert response.status_code == 404, response.body[:300]
    assert _error(response)["code"] == "NOT_FOUND"
    assert _error(response)["details"] == {"tenant_id": TENANT_A}


@pytest.mark.parametrize("spec", _params(TENANT))
def test_tenant_route_is_404_when_the_members_grant_has_expired(api, billing_on, spec):
    # Given dave, whose owner grant in tenant A expired a minute ago (no job removed it)
    headers = api.world.bearer("usr_dave")
    # When
    response = api.call(spec, headers)
    # Then
    assert response.status_code == 404, response.body[:300]
    assert _error(response)["details"] == {"tenant_id": TENANT_A}


def test_every_guard_denial_on_a_tenant_route_leaves_an_audit_entry_when_the_guard_refuses(api, billing_on):
    # Given the tenant's audit log exists, and carol (no permissions) calls every tenant route
    sent: dict[str, routes.RouteSpec] = {}
    for number, spec in enumerate(TENANT):
        request_id = f"walk-denial-{number:04d}"
        response = api.call(spec, {**api.world.bearer("usr_carol"), "X-Request-Id": request_id})
        assert response.status_code == 403, (spec.method, spec.path, response.body[:300])
        sent[request_id] = spec
    # When the owner reads the denied entries of carol, page by page
    found: dict[str, dict[str, Any]] = {}
    cursor = ""
    while True:
        page = api.client.http.get(
            f"/v1/tenants/{TENANT_A}/audit?actor=usr_carol&result=denied&limit=100{cursor}",
            headers=api.world.bearer("usr_alice"),
        )
        assert page.status_code == 200, page.body[:300]
        found.update({entry["request_id"]: entry for entry in page.json_body["items"]})
        if not page.json_body["next_cursor"]:
            break
        cursor = f"&cursor={quote(page.json_body['next_cursor'])}"
    # Then every denial is there, with the permission it lacked
    missing = [f"{spec.method} {spec.path}" for request_id, spec in sent.items() if request_id not in found]
    assert not missing, f"denials without an audit entry: {missing}"
    for request_id, spec in sent.items():
        assert (found[request_id]["permission"], found[request_id]["status"]) == (spec.permission, 403)


@pytest.mark.parametrize("spec", _params(SERVER))
def test_server_route_is_403_when_the_subuser_is_bound_to_another_server(api, billing_on, spec):
    # Given erin, bound with every permission to another server of tenant A
    headers = api.world.bearer("usr_erin")
    # When
    response = api.call(spec, headers)
    # Then
    assert response.status_code == 403, response.body[:300]
    assert _error(response)["code"] == "FORBIDDEN"


# --- (d) admin, (e) account, remote ---------------------------------------------------------


@pytest.mark.parametrize("spec", _params(ADMIN))
def test_admin_route_is_403_when_the_caller_is_not_a_platform_admin(api, billing_on, spec):
    # Given alice, owner of a tenant but not a platform admin
    headers = api.world.bearer("usr_alice")
    # When
    response = api.call(spec, headers)
    # Then
    assert response.status_code == 403, response.body[:300]
    assert _error(response)["code"] == "FORBIDDEN"
    assert _error(response)["details"] == {"permission": spec.permission}


@pytest.mark.parametrize("spec", _params(GUARDED))
def test_guarded_route_is_403_when_the_callers_api_key_lacks_the_scope(api, billing_on, spec):
    # Given an API key of the route's rightful caller (the tenant's owner, or the admin) whose
    # only scope is another permission: servers.read, or tenant.read for servers.read routes
    owner = "usr_root" if route_class(spec) == "admin" else "usr_alice"
    key = api.world.keys[owner]["tenant" if spec.permission == "servers.read" else "servers"]
    # When
    response = api.call(spec, {"Authorization": f"Bearer {key}"})
    # Then the key's scopes decide, whatever its owner may do
    assert response.status_code == 403, response.body[:300]
    assert _error(response)["code"] == "FORBIDDEN"
    assert _error(response)["details"] == {"permission": spec.permission}


def test_api_key_passes_the_guard_when_its_scope_is_the_routes_permission(api):
    # Given alice's key scoped to tenant.read only
    key = api.world.keys["usr_alice"]["tenant"]
    # When it reads the tenant (tenant.read) and changes it (tenant.update)
    read = api.client.http.get(f"/v1/tenants/{TENANT_A}", headers={"Authorization": f"Bearer {key}"})
    write = api.client.http.patch(
        f"/v1/tenants/{TENANT_A}",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        body=json.dumps({"name": "renamed by a read-only key"}),
    )
    # Then the read works and the write is refused
    assert read.status_code == 200, read.body[:300]
    assert read.json_body["id"] == TENANT_A
    assert write.status_code == 403, write.body[:300]
    assert _error(write)["details"] == {"permission": "tenant.update"}


def test_me_refuses_to_make_its_caller_an_admin_when_the_body_asks_for_it(api):
    # Given a verified user who is no admin
    headers = api.world.bearer(api.fresh_user())
    # When the user tries to promote and verify themselves through their own profile
    response = api.client.http.patch(
        "/v1/me",
        headers={**headers, "Content-Type": "application/json"},
        body=json.dumps({"name": "Mallory", "is_admin": True, "email_verified": True}),
    )
    # Then the body is refused as a whole, and nothing changed
    assert response.status_code == 400, response.body[:300]
    assert _error(response)["code"] == "VALIDATION_ERROR"
    me = api.client.http.get("/v1/me", headers=headers).json_body
    assert (me["is_admin"], me["name"]) == (False, None)


@pytest.mark.parametrize("spec", _params(ACCOUNT))
def test_account_route_passes_the_guard_when_the_token_is_valid(api, billing_on, spec):
    # Given a verified user of no tenant, new for this call
    headers = api.world.bearer(api.fresh_user())
    # When
    response = api.call(spec, headers)
    # Then the guard let the call through to validation or the view (and the view did not crash)
    assert response.status_code not in (401, 403), response.body[:300]
    assert response.status_code < 500, response.body[:300]


@pytest.mark.parametrize("spec", _params(REMOTE))
def test_remote_route_is_refused_when_called_with_a_user_token(api, spec):
    # Given the Wings callbacks take node tokens only; root is a platform admin
    headers = api.world.bearer("usr_root")
    # When
    response = api.call(spec, headers)
    # Then (a JWT has three dot-separated parts, not <token_id>.<token>, so the node-credential
    # check answers 400 before any node is looked up, §5.1)
    # (the Wings callbacks answer in Pterodactyl's error shape, which Wings reads)
    assert response.status_code == 400, response.body[:300]
    assert response.json_body["errors"][0]["code"] == "BadRequestHttpException"


# --- billing, unguarded by design only while off --------------------------------------------


@pytest.mark.parametrize("spec", _params([s for s in GUARDED if s.billing]))
def test_billing_route_is_503_before_authentication_when_billing_is_off(api, spec):
    # When billing is off (the test settings)
    response = api.call(spec)
    # Then it answers BILLING_DISABLED and reveals nothing else
    assert response.status_code == 503
    assert _error(response)["code"] == "BILLING_DISABLED"
