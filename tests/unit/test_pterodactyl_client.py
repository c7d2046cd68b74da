"""Pterodactyl's client API translation on fakes: the server object, the list across tenants,
stats, startup, permission keys, API key identifiers and activity pages."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from mamba.auth.context import Principal, TenantContext
from mamba.domain.accounts import User
from mamba.domain.api_keys import ApiKey
from mamba.domain.blueprints import Blueprint, Variable
from mamba.domain.nodes import Allocation, Node
from mamba.domain.pages import Page, PageRequest
from mamba.domain.permissions import BUILTIN_ROLES
from mamba.domain.pterodactyl import IdRef
from mamba.domain.servers import Limits, Server
from mamba.domain.tenancy import Membership, Tenant, UserTenant
from mamba.services.pterodactyl import client_account as account
from mamba.services.pterodactyl import client_servers as cs
from tests.fakes import FakeAllocationRepository, FakeBlueprintRepository, FakeNodeRepository, FakeServerRepository

T0 = "2026-11-25T10:00:00Z"


@dataclass
class Ids:
    """Just what the translation asks of ``PteroIds``: numbers handed out on first use."""

    given: dict[tuple[str, str], IdRef] = field(default_factory=dict)

    def number(self, kind: str, ref: str, scope: str | None = None) -> IdRef:
        key = (kind, ref)
        if key not in self.given:
            self.given[key] = IdRef(kind, ref, len(self.given) + 1, scope)
        return self.given[key]

    def numbers(self, kind: str, refs: dict[str, str | None]) -> dict[str, IdRef]:
        return {ref: self.number(kind, ref, scope) for ref, scope in refs.items()}

    def by_number(self, kind: str, number: int) -> IdRef | None:
        return next((r for (k, _), r in self.given.items() if k == kind and r.number == number), None)


@dataclass
class Bindings:
    rows: list[Membership]
    strict: frozenset[str] = frozenset()  # tenants that require 2FA

    def memberships_of_user(self, user_id: str) -> list[Membership]:
        return [m for m in self.rows if m.user_id == user_id]

    def tenants_of_user(self, user_id: str, page: PageRequest) -> Page[UserTenant]:
        return Page(
            items=[
                UserTenant(
                    tenant=Tenant(
                        id=m.tenant_id, name=m.tenant_id, created_at=T0, require_2fa=m.tenant_id in self.strict
                    ),
                    role=m.role,
                )
                for m in self.memberships_of_user(user_id)
            ]
        )


def server(uuid: str, tenant: str, created: str = T0, **extra) -> Server:
    values = dict(
        uuid=uuid,
        name=f"srv {uuid[:4]}",
        tenant_id=tenant,
        node_id="nd",
        blueprint_id="bp",
        allocation=("10.0.0.1", 25565),
        docker_image="img",
        startup="run {{MOTD}}",
        limits=Limits(memory_mb=512, disk_mb=1024),
        status="offline",
        created_at=created,
        updated_at=created,
        environment={"MOTD": "hello"},
    )
    values.update(extra)
    return Server(**values)


U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"
U3 = "33333333-3333-4333-8333-333333333333"


@pytest.fixture
def ports() -> cs.ClientPorts:
    servers = FakeServerRepository()
    servers.add(server(U1, "tn_a", "2026-11-25T10:00:01Z"))
    servers.add(server(U2, "tn_a", "2026-11-25T10:00:02Z", status="suspended", description="the lobby"))
    servers.add(server(U3, "tn_b"))
    nodes = FakeNodeRepository()
    nodes.add(
        Node(id="nd", uuid="n-1", name="SBG-1", fqdn="node.example", token_id="t" * 16, created_at=T0, updated_at=T0),
        "secret",
    )
    allocations = FakeAllocationRepository(nodes)
    allocations.add_many([Allocation("nd", "10.0.0.1", 25565, T0, alias="play.example", notes="main", server_id=U1)])
    blueprints = FakeBlueprintRepository(
        Blueprint(
            id="bp",
            name="Game",
            startup="run {{MOTD}}",
            docker_images={"A": "img"},
            variables=(Variable(name="Motd", env_variable="MOTD", default_value="hi"),),
        )
    )
    bindings = Bindings(
        [
            Membership("tn_a", "usr_alice", "owner", T0),
            Membership("tn_b", "usr_alice", "viewer", T0, server_id=U3),
            Membership("tn_a", "usr_vic", "viewer", T0),
            Membership("tn_b", "usr_gone", "owner", T0, expires_at=1),
        ]
    )
    return cs.ClientPorts(servers, nodes, blueprints, allocations, Ids(), bindings)  # type: ignore[arg-type]


def alice(scopes: frozenset[str] | None = None) -> Principal:
    return Principal(user_id="usr_alice", is_admin=False, scopes=scopes)


def test_the_list_spans_the_users_tenants_oldest_first_with_a_subusers_one_server(ports):
    body = cs.list_servers(ports, alice(), {}, now=1000)

    assert [s["attributes"]["uuid"] for s in body["data"]] == [U3, U1, U2]
    assert body["meta"]["pagination"]["total"] == 3
    owners = {s["attributes"]["uuid"]: s["attributes"]["server_owner"] for s in body["data"]}
    assert owners == {U3: False, U1: True, U2: True}


def test_the_list_filters_types_and_key_scopes(ports):
    assert [s["attributes"]["uuid"] for s in cs.list_servers(ports, alice(), {"type": "owner"}, now=1)["data"]] == [
        U1,
        U2,
    ]
    lobby = cs.list_servers(ports, alice(), {"filter[description]": "LOBBY"}, now=1)["data"]
    assert [s["attributes"]["uuid"] for s in lobby] == [U2]
    by_port = cs.list_servers(ports, alice(), {"filter[*]": "10.0.0.1:25565"}, now=1)["meta"]["pagination"]
    assert by_port["total"] == 3
    assert cs.list_servers(ports, alice(), {"type": "admin"}, now=1)["data"] == []
    # A key without servers.read lists nothing; an expired binding counts for nothing
    assert cs.list_servers(ports, alice(frozenset({"account.read"})), {}, now=1)["data"] == []
    gone = Principal(user_id="usr_gone", is_admin=False)
    assert cs.list_servers(ports, gone, {}, now=1000)["data"] == []


def test_the_server_object_translates_limits_status_allocation_and_variables(ports):
    tenant = TenantContext("tn_a", "owner", BUILTIN_ROLES["owner"])
    body = cs.server_item(ports, ports.servers.get(U1), cs.viewer(alice(), tenant))["attributes"]

    assert body["identifier"] == U1[:8] and body["node"] == "SBG-1"
    assert body["sftp_details"] == {"ip": "node.example", "port": 2022}
    assert body["limits"]["memory"] == 512 and body["status"] is None and body["invocation"] == "run hello"
    [allocation] = body["relationships"]["allocations"]["data"]
    assert allocation["attributes"]["ip_alias"] == "play.example" and allocation["attributes"]["notes"] == "main"
    [variable] = body["relationships"]["variables"]["data"]
    assert variable["attributes"]["server_value"] == "hello"
    suspended = cs.server_item(ports, ports.servers.get(U2), cs.viewer(alice(), tenant))["attributes"]
    assert suspended["status"] == "suspended" and suspended["is_suspended"] is True


def test_without_startup_read_the_variables_are_hidden_and_only_the_primary_allocation_shows(ports):
    seen_by = cs.Viewer(owner=False, keys=frozenset({"control.console"}))
    body = cs.server_item(ports, ports.servers.get(U1), seen_by)["attributes"]

    assert body["invocation"] == "[hidden]"
    assert body["relationships"]["variables"] == {"object": "null_resource", "attributes": None}
    [allocation] = body["relationships"]["allocations"]["data"]
    assert allocation["attributes"]["notes"] is None


def test_permission_keys_are_star_for_owners_and_the_table_for_others():
    owner = TenantContext("tn_a", "owner", BUILTIN_ROLES["owner"])
    viewer = TenantContext("tn_a", "viewer", BUILTIN_ROLES["viewer"])

    assert cs.permission_keys(alice(), owner) == ["*"]
    scoped = cs.permission_keys(alice(frozenset({"servers.power"})), owner)
    assert scoped == ["control.start", "control.stop", "control.restart"]
    keys = cs.permission_keys(alice(), viewer)
    assert "file.read" in keys and "control.start" not in keys


def test_stats_come_from_wings_utilization():
    stats = cs.stats_item(
        {
            "state": "running",
            "is_suspended": False,
            "utilization": {"memory_bytes": 5, "cpu_absolute": 12.5, "network": {"rx_bytes": 7}, "uptime": 9},
        }
    )["attributes"]

    assert stats["current_state"] == "running"
    assert stats["resources"] == {
        "memory_bytes": 5,
        "cpu_absolute": 12.5,
        "disk_bytes": 0,
        "network_rx_bytes": 7,
        "network_tx_bytes": 0,
        "uptime": 9,
    }
    assert cs.stats_item({"state": "weird"})["attributes"]["current_state"] == "offline"


def test_startup_renders_values_then_defaults():
    variables = (Variable(name="A", env_variable="A", default_value="x"), Variable(name="B", env_variable="B"))

    assert cs.render_startup("go {{A}} {{B}} {{env.A}}", {"B": True}, variables) == "go x 1 x"


def test_a_key_identifier_plus_its_secret_is_the_key():
    key = ApiKey("key_1", "usr_a", "n", ("account.read",), T0, "h", "abcd", key_format="pterodactyl")

    assert account.identifier(key) == "ptlc_usr_a.key_1."
    assert account.key_id_of("ptlc_usr_a.key_1.") == "key_1" and account.key_id_of("key_1") == "key_1"


def test_the_account_shows_the_application_apis_username_and_names():
    user = User(id="u", email="jo.doe@example.org", created_at=T0, name="Jo van Doe")
    ref = IdRef("user", "u", 7)

    made = account.account_item(user, ref, None)["attributes"]
    assert (made["id"], made["username"], made["first_name"], made["last_name"]) == (7, "jo.doe", "Jo", "van Doe")
    kept = account.account_item(user, ref, {"username": "jodoe", "language": "de"})["attributes"]
    assert (kept["username"], kept["language"]) == ("jodoe", "de")


def test_activity_pages_filter_and_sort():
    rows = [
        account.Activity(f"a{n}", event, f"2026-11-25T10:00:0{n}Z", {}, "1.2.3.4", False, "usr_a")
        for n, event in enumerate(["user:key.create", "user:key.delete", "server:power"])
    ]

    newest = account.activity_page(rows, {"per_page": "2"}, "usr_a", False)
    assert [e["attributes"]["id"] for e in newest["data"]] == ["a2", "a1"]
    oldest = account.activity_page(rows, {"sort": "timestamp", "filter[event]": "KEY"}, "usr_b", False)
    assert [e["attributes"]["id"] for e in oldest["data"]] == ["a0", "a1"]
    assert oldest["data"][0]["attributes"]["ip"] is None  # not the viewer's own entry


def test_account_activity_reads_a_bounded_part_of_the_platform_log():
    from datetime import UTC, datetime

    from mamba.domain.audit import AuditEntry, AuditPage

    class EndlessLog:
        """A platform log where every page holds one of the user's entries and a cursor on."""

        def __init__(self) -> None:
            self.calls: list[tuple[str | None, object]] = []

        def list(self, tenant_id, filters, limit, cursor, security=False):
            self.calls.append((cursor, filters))
            n = len(self.calls)
            entry = AuditEntry(id=f"aud_{n}", at=f"2026-11-25T10:00:{n:02d}.000000Z", action="a", result="success")
            return AuditPage(items=[entry], next_cursor=f"c{n}")

    log = EndlessLog()
    found = account.account_activity(log, "usr_a", datetime(2026, 11, 26, tzinfo=UTC))

    assert len(log.calls) == account.ACTIVITY_PAGES and len(found) == account.ACTIVITY_PAGES
    _, filters = log.calls[0]
    assert filters.actor_id == "usr_a" and filters.since == "2026-08-28T00:00:00.000000Z"


def test_a_tenant_requiring_2fa_is_left_out_for_a_user_without_a_second_factor(ports):
    from tests.fakes import FakeUserRepository

    users = FakeUserRepository()
    users.add(User(id="usr_alice", email="a@example.org", created_at=T0))
    strict = replace(ports, users=users, memberships=replace(ports.memberships, strict=frozenset({"tn_a"})))

    assert [s["attributes"]["uuid"] for s in cs.list_servers(strict, alice(), {}, now=1)["data"]] == [U3]
    users.users["usr_alice"] = replace(users.get("usr_alice"), totp_enabled=True)
    assert len(cs.list_servers(strict, alice(), {}, now=1)["data"]) == 3


def test_panel_activity_keeps_the_entries_that_name_the_server(ports):
    from datetime import UTC, datetime

    from mamba.domain.audit import AuditEntry, AuditPage

    targets = [
        f"/api/client/servers/{U1[:8]}/settings/rename",
        f"/v1/tenants/tn_a/servers/{U1}/power",
        f"/v1/tenants/tn_a/servers/{U1}",
        f"/api/client/servers/{U2}/command",
        "/v1/tenants/tn_a/members/usr_x",
    ]

    class Log:
        def list(self, tenant_id, filters, limit, cursor, security=False):
            assert tenant_id == "tn_a" and filters.result == "success"
            items = [
                AuditEntry(
                    id=f"a{n}", at=f"2026-11-25T10:00:0{n}.000000Z", action=f"act{n}", result="success", target=t
                )
                for n, t in enumerate(targets)
            ]
            return AuditPage(items=items)

    tenant = TenantContext("tn_a", "owner", BUILTIN_ROLES["owner"])
    found = cs.panel_activity(Log(), tenant, ports.servers.get(U1), datetime(2026, 11, 26, tzinfo=UTC))

    assert [a.event for a in found] == ["server:act0", "server:act1", "server:act2"]
