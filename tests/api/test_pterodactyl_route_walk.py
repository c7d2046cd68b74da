"""Every route of Pterodactyl's door, walked: each refuses the wrong caller in Pterodactyl's error shape.

The walk is built from ``routes.REGISTRY`` (the routes declared with ``ptero_route``, ``RouteSpec.door``)
and what Chalice serves, so a route any engineer adds later is covered with no edit here:

* **every door route**: no key → 401 ``AuthenticationException``;
* **/api/application**: a client key (``ptlc_``, even a platform admin's), a Mamba key or an access token
  → 403; an application key whose right on the route's resource is ``none`` → 403, and for a write a
  key with only ``read`` → 403; the key with the right passes the guard (no 401/403, never a 500);
* **/api/client**: an application key → 403; on a ``{server}`` route, a key of a user who is no member of
  the server's tenant → 404 (the server does not exist for them), and the owner's key whose scopes lack
  the route's permission → 403; a route without ``{server}`` passes the guard for any verified user.

The guard answers before the body is parsed or a resource is looked up, so every request sends ``{}`` and
path parameters other than ``{server}`` get placeholders. docs/pterodactyl-api.md, "Keys".
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest

import app as app_module
from mamba import bootstrap, routes
from mamba.domain import permissions as perms
from mamba.domain.pterodactyl import APPLICATION_RESOURCES
from tests.api.security_world import bearer, build_world, create_key
from tests.api.server_world import add_server

# --- the routes -------------------------------------------------------------------------------


def _door_specs() -> list[routes.RouteSpec]:
    served = {(method, path) for path, entry in app_module.app.routes.items() for method in entry}
    found = [spec for spec in routes.REGISTRY if spec.door is not None and (spec.method, spec.path) in served]
    return sorted(found, key=lambda spec: (spec.path, spec.method))


DOOR = _door_specs()
APPLICATION = [spec for spec in DOOR if spec.door == "application"]
CLIENT = [spec for spec in DOOR if spec.door == "client"]
CLIENT_SERVER = [spec for spec in CLIENT if "{server}" in spec.path]
CLIENT_ACCOUNT = [spec for spec in CLIENT if "{server}" not in spec.path]
APPLICATION_WRITES = [spec for spec in APPLICATION if spec.method not in ("GET", "HEAD")]


def _params(specs: list[routes.RouteSpec]) -> list[Any]:
    return [pytest.param(spec, id=f"{spec.method} {spec.path}") for spec in specs]


# --- the world --------------------------------------------------------------------------------

CLIENT_SCOPES = sorted(perms.TENANT_PERMISSIONS | perms.ACCOUNT_PERMISSIONS)


@dataclass
class Walk:
    """The app on moto; alice owns tn_a and its server, bob owns tn_b, root is the platform admin."""

    client: Any
    tokens: dict[str, str]
    server: str = ""  # alice's server, by its 8-character identifier
    server_uuid: str = ""
    keys: dict[str, str] = field(default_factory=dict)
    counter: int = 0

    def call(self, spec: routes.RouteSpec, credential: str | None = None, server: str | None = None) -> Any:
        headers = {"Accept": "application/json"}
        if credential is not None:
            headers["Authorization"] = f"Bearer {credential}"
        body = b""
        if spec.method not in ("GET", "HEAD", "DELETE"):
            headers["Content-Type"] = "application/json"
            body = b"{}"
        # A client path's {server} is alice's server; any other parameter (every one on the application
        # API, where ids are integers) a placeholder the guard never reads
        values = {"server": server or self.server} if spec.door == "client" else {}
        path = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), f"{9000 + len(m.group(1))}"), spec.path)
        return self.client.http.request(spec.method, path, headers=headers, body=body)

    def application_key(self, name: str, rights: dict[str, str]) -> str:
        made = self.client.http.post(
            "/v1/admin/application-keys",
            headers=bearer(self.tokens["root"]),
            body=json.dumps({"name": name, "permissions": rights}),
        )
        assert made.status_code == 201, made.body[:300]
        key: str = made.json_body["key"]
        assert key.startswith("ptla_")
        return key

    def client_key(self, who: str, scopes: list[str]) -> str:
        made = create_key(self.client, bearer(self.tokens[who]), scopes=scopes, format="pterodactyl")
        assert made.status_code == 201, made.body[:300]
        key: str = made.json_body["key"]
        assert key.startswith("ptlc_")
        return key

    def fresh_user(self) -> str:
        """A verified user of no tenant, new for each use (an account route may change its caller)."""
        from mamba.adapters.dynamo.users import DynamoUserRepository
        from mamba.auth.tokens import issue_access
        from mamba.domain.accounts import User

        self.counter += 1
        user_id = f"usr_walk_{self.counter}"
        DynamoUserRepository().add(
            User(id=user_id, email=f"{user_id}@example.org", created_at="2026-11-25T10:00:00Z", email_verified=True)
        )
        return issue_access(user_id, bootstrap.settings().jwt_secret)


def _rights(value: str, **overrides: str) -> dict[str, str]:
    return {**dict.fromkeys(APPLICATION_RESOURCES, value), **overrides}


@pytest.fixture(scope="module")
def walk() -> Iterator[Walk]:
    """One world for the module: the guard answers before any view runs, so the walk's denials
    change nothing and every test may share it."""
    from tests.support import app_on_moto

    with app_on_moto() as client:
        world = build_world()
        walk = Walk(client=client, tokens=world.tokens)
        server_uuid = str(uuid.uuid4())
        add_server(server_uuid, "tn_a")
        walk.server_uuid = server_uuid
        walk.server = bootstrap.ptero_ids().number("server", server_uuid, "tn_a").ref[:8]
        walk.keys["app_full"] = walk.application_key("full", _rights("read-write"))
        for resource in APPLICATION_RESOURCES:
            walk.keys[f"app_none_{resource}"] = walk.application_key(
                f"no {resource}", _rights("read-write", **{resource: "none"})
            )
            walk.keys[f"app_read_{resource}"] = walk.application_key(
                f"read {resource}", _rights("read-write", **{resource: "read"})
            )
        walk.keys["root_client"] = walk.client_key("root", CLIENT_SCOPES)
        walk.keys["alice_client"] = walk.client_key("alice", CLIENT_SCOPES)
        walk.keys["bob_client"] = walk.client_key("bob", CLIENT_SCOPES)
        walk.keys["alice_narrow"] = walk.client_key("alice", ["account.read"])
        walk.keys["alice_mamba"] = create_key(client, bearer(walk.tokens["alice"]), scopes=CLIENT_SCOPES).json_body[
            "key"
        ]
        yield walk


def _refused(response: Any, status: int, code: str) -> dict[str, Any]:
    """The answer is Pterodactyl's error shape with ``status`` and ``code``; returns its one error."""
    assert response.status_code == status, (response.status_code, response.body[:300])
    body = response.json_body
    assert isinstance(body, dict) and set(body) == {"errors"}, body
    (error,) = body["errors"]
    assert error["status"] == str(status) and error["code"] == code, error
    assert isinstance(error["detail"], str) and error["detail"]
    return dict(error)


# --- coverage -----------------------------------------------------------------------------------


def test_the_walk_covers_both_apis_and_the_client_servers_routes():
    # Given the door's routes as Chalice serves them
    # Then each API and the client's server routes are there (an empty class would walk nothing)
    assert APPLICATION, "no /api/application route is served"
    assert CLIENT_SERVER, "no /api/client/servers/{server} route is served"
    assert CLIENT_ACCOUNT, "no /api/client route without a server is served"
    # And every application route names an application key resource, every client route none
    assert {spec.resource for spec in APPLICATION} <= set(APPLICATION_RESOURCES)
    assert all(spec.resource is None for spec in CLIENT)


# --- no key -------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", _params(DOOR))
def test_door_route_is_401_when_no_key_is_sent(walk, spec):
    # When the route is called without Authorization
    response = walk.call(spec)
    # Then Pterodactyl's 401
    _refused(response, 401, "AuthenticationException")


@pytest.mark.parametrize("spec", _params(DOOR))
def test_door_route_is_401_when_the_key_is_not_a_key_of_the_panel(walk, spec):
    # Given a well-formed key of the route's kind whose secret the panel never issued
    prefix = "ptla_" if spec.door == "application" else "ptlc_"
    forged = walk.keys["app_full" if spec.door == "application" else "alice_client"].removeprefix(prefix)
    forged = prefix + forged[:-6] + ("AAAAAA" if not forged.endswith("AAAAAA") else "BBBBBB")
    # When
    response = walk.call(spec, forged)
    # Then
    _refused(response, 401, "AuthenticationException")


# --- the application API ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec", _params(APPLICATION))
def test_application_route_is_403_for_a_client_key_even_a_platform_admins(walk, spec):
    # Given root, a platform admin, and his client key with every client scope; and alice's Mamba key
    for credential in (walk.keys["root_client"], walk.keys["alice_client"], walk.keys["alice_mamba"]):
        # When either calls the application API
        response = walk.call(spec, credential)
        # Then the key is the wrong kind
        _refused(response, 403, "AccessDeniedHttpException")
    # And so is the admin's own access token
    _refused(walk.call(spec, walk.tokens["root"]), 403, "AccessDeniedHttpException")


@pytest.mark.parametrize("spec", _params(APPLICATION))
def test_application_route_is_403_when_the_key_has_no_right_on_its_resource(walk, spec):
    # Given root's application key with read-write on everything but the route's resource
    key = walk.keys[f"app_none_{spec.resource}"]
    # When
    response = walk.call(spec, key)
    # Then Pterodactyl's "This action is unauthorized."
    error = _refused(response, 403, "AccessDeniedHttpException")
    assert error["detail"] == "This action is unauthorized."


@pytest.mark.parametrize("spec", _params(APPLICATION_WRITES))
def test_application_write_is_403_when_the_key_may_only_read_its_resource(walk, spec):
    # Given root's application key with only read on the route's resource
    key = walk.keys[f"app_read_{spec.resource}"]
    # When it writes
    response = walk.call(spec, key)
    # Then
    error = _refused(response, 403, "AccessDeniedHttpException")
    assert error["detail"] == "This action is unauthorized."


@pytest.mark.parametrize("spec", _params(APPLICATION))
def test_application_route_passes_the_guard_when_the_key_holds_the_right(walk, spec):
    # Given root's application key with read-write on every resource
    # When it calls the route with an empty body and placeholder ids
    response = walk.call(spec, walk.keys["app_full"])
    # Then the guard let it through to validation or the view, and the view did not crash
    assert response.status_code not in (401, 403), response.body[:300]
    assert response.status_code < 500, response.body[:300]
    if response.status_code >= 400:
        assert "errors" in response.json_body, response.body[:300]


def test_application_key_stops_working_when_its_owner_is_no_longer_a_platform_admin(walk):
    # Given a second platform admin with an application key holding every right, which works
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.auth.tokens import issue_access
    from mamba.domain.accounts import User

    users = DynamoUserRepository()
    users.add(User(id="usr_root2", email="root2@example.org", created_at="2026-11-25T10:00:00Z", is_admin=True,
                   email_verified=True))  # fmt: skip
    made = walk.client.http.post(
        "/v1/admin/application-keys",
        headers=bearer(issue_access("usr_root2", bootstrap.settings().jwt_secret)),
        body=json.dumps({"name": "leaver", "permissions": _rights("read-write")}),
    )
    assert made.status_code == 201, made.body[:300]
    key = made.json_body["key"]
    spec = APPLICATION[0]
    assert walk.call(spec, key).status_code not in (401, 403)
    # When the admin right is taken away (the key itself is untouched)
    users.set_admin("usr_root2", False)
    # Then the key opens nothing on the application API
    for spec in APPLICATION:
        _refused(walk.call(spec, key), 403, "AccessDeniedHttpException")


APPLICATION_WITH_IDS = [spec for spec in APPLICATION if "{" in spec.path]


@pytest.mark.parametrize("spec", _params(APPLICATION_WITH_IDS))
def test_application_route_is_404_for_an_id_that_is_not_a_number(walk, spec):
    # Given root's application key with read-write on every resource, and a path whose ids are not numbers
    path = re.sub(r"\{\w+\}", "not-a-number", spec.path)
    body = b"" if spec.method in ("GET", "HEAD", "DELETE") else b"{}"
    headers = {"Authorization": f"Bearer {walk.keys['app_full']}", "Accept": "application/json"}
    if body:
        headers["Content-Type"] = "application/json"
    # When
    response = walk.client.http.request(spec.method, path, headers=headers, body=body)
    # Then Pterodactyl's 404 (a body checked first may answer 422), never a 500
    assert response.status_code in (404, 422), (response.status_code, response.body[:300])
    assert "errors" in response.json_body


# --- the client API -----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", _params(CLIENT))
def test_client_route_is_403_for_an_application_key(walk, spec):
    # Given root's application key with read-write on every resource
    # When it calls the client API (for the server root's tenant does not hold, too)
    response = walk.call(spec, walk.keys["app_full"])
    # Then
    error = _refused(response, 403, "AccessDeniedHttpException")
    assert error["detail"] == "An application key works only on the application API."


@pytest.mark.parametrize("spec", _params(CLIENT_SERVER))
def test_client_server_route_is_404_for_another_users_server(walk, spec):
    # Given bob, owner of tn_b with a client key of every client scope, and alice's server in tn_a
    # When bob calls the route on alice's server, by its identifier and by its uuid
    for reference in (walk.server, walk.server_uuid):
        response = walk.call(spec, walk.keys["bob_client"], server=reference)
        # Then the server does not exist for him
        error = _refused(response, 404, "NotFoundHttpException")
        assert error["detail"] == "The requested resource could not be found on the server."


@pytest.mark.parametrize("spec", _params(CLIENT_SERVER))
def test_client_server_route_is_404_for_a_server_that_does_not_exist(walk, spec):
    # When alice names a server that is nobody's
    response = walk.call(spec, walk.keys["alice_client"], server="0badc0de")
    # Then the same 404 as for another user's server
    error = _refused(response, 404, "NotFoundHttpException")
    assert error["detail"] == "The requested resource could not be found on the server."


@pytest.mark.parametrize("spec", _params(CLIENT_SERVER))
def test_client_server_route_is_403_when_the_owners_key_lacks_the_scope(walk, spec):
    # Given alice's client key whose only scope is account.read, on her own server
    # When
    response = walk.call(spec, walk.keys["alice_narrow"])
    # Then the key's scopes decide, whatever its owner may do
    _refused(response, 403, "AccessDeniedHttpException")


@pytest.mark.parametrize("spec", _params(CLIENT_ACCOUNT))
def test_client_account_route_passes_the_guard_for_any_verified_user(walk, spec):
    # Given a verified user of no tenant, new for this call
    token = walk.fresh_user()
    # When
    response = walk.call(spec, token)
    # Then the guard let the call through to validation or the view, and the view did not crash
    assert response.status_code not in (401, 403), response.body[:300]
    # (501: a capability Mamba does not offer, answered on purpose, e.g. SSH keys; never a crash)
    assert response.status_code < 500 or response.status_code == 501, response.body[:300]


# --- the audit log --------------------------------------------------------------------------------


def _tenant_audit(walk: Walk, **query: str) -> dict[str, dict[str, Any]]:
    """Every entry of tn_a's audit log matching ``query``, by request id (alice owns tn_a)."""
    found: dict[str, dict[str, Any]] = {}
    cursor = ""
    while True:
        url = f"/v1/tenants/tn_a/audit?{urlencode({**query, 'limit': '100'})}{cursor}"
        page = walk.client.http.get(url, headers=bearer(walk.tokens["alice"]))
        assert page.status_code == 200, page.body[:300]
        found.update({entry["request_id"]: entry for entry in page.json_body["items"]})
        if not page.json_body["next_cursor"]:
            return found
        cursor = f"&cursor={quote(page.json_body['next_cursor'])}"


def test_client_server_route_refusals_are_in_the_servers_tenant_audit_log(walk):
    # Given alice's key without the routes' scopes, refused on every server route of her own server
    sent: dict[str, routes.RouteSpec] = {}
    for number, spec in enumerate(CLIENT_SERVER):
        request_id = f"ptero-walk-denial-{number:04d}"
        headers = {"Authorization": f"Bearer {walk.keys['alice_narrow']}", "X-Request-Id": request_id}
        body = b"" if spec.method in ("GET", "HEAD", "DELETE") else b"{}"
        if body:
            headers["Content-Type"] = "application/json"
        path = re.sub(r"\{(\w+)\}", lambda m: walk.server if m.group(1) == "server" else "9000", spec.path)
        response = walk.client.http.request(spec.method, path, headers=headers, body=body)
        assert response.status_code == 403, (spec.method, spec.path, response.body[:300])
        sent[request_id] = spec
    # When the owner reads her tenant's denied entries, as on /v1
    found = _tenant_audit(walk, actor="usr_alice", result="denied")
    # Then every refusal is there, with the catalogue permission the route needs
    missing = [f"{spec.method} {spec.path}" for request_id, spec in sent.items() if request_id not in found]
    assert not missing, f"refusals missing from the tenant's audit log: {missing}"
    for request_id, spec in sent.items():
        assert (found[request_id]["permission"], found[request_id]["status"]) == (spec.permission, 403)


def test_a_change_through_the_client_api_is_in_the_tenant_audit_log(walk):
    # Given alice renames her server through Pterodactyl's settings route with her client key
    renamed = walk.client.http.post(
        f"/api/client/servers/{walk.server}/settings/rename",
        headers={**bearer(walk.keys["alice_client"]), "X-Request-Id": "ptero-walk-rename"},
        body=json.dumps({"name": "renamed through the door"}),
    )
    assert renamed.status_code == 204, renamed.body[:300]
    # When she reads her tenant's audit log
    entry = _tenant_audit(walk, actor="usr_alice", result="success").get("ptero-walk-rename")
    # Then the change is there as any /v1 change is: who, with which permission, on which server
    assert entry is not None, "the rename is not in the tenant's audit log"
    assert (entry["permission"], entry["status"], entry["actor"]) == (
        "servers.update",
        204,
        {"user_id": "usr_alice", "via": "api_key"},
    )
    assert walk.server in entry["target"]
