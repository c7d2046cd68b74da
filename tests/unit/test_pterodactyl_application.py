"""The application API's translation on the fakes (mamba.services.pterodactyl.users, nodes,
nests): Mamba objects as Pterodactyl's transformers shape them, and the rules of each area."""

from __future__ import annotations

import pytest

from mamba.domain.accounts import User
from mamba.domain.blueprints import Blueprint, Variable
from mamba.domain.errors import ConflictError, NotFoundError, ValidationError
from mamba.domain.pterodactyl import IdRef
from mamba.services.pterodactyl import nests, nodes, users
from mamba.services.pterodactyl.common import listing
from tests.fakes import (
    FakeAdminRepository,
    FakeBlueprintRepository,
    FakeHasher,
    FakePlacementStore,
    FakePteroIds,
    FakePteroRecords,
)

T0 = "2026-12-05T10:00:00Z"


REMOVED: list[tuple[str, str]] = []


def _user_ports() -> users.UserPorts:
    admin = FakeAdminRepository()
    REMOVED.clear()
    return users.UserPorts(
        users=admin.users,
        admin=admin,
        hasher=FakeHasher(),
        ids=FakePteroIds(),
        records=FakePteroRecords(),
        remove=lambda user_id, actor: REMOVED.append((user_id, actor)),
    )


def test_an_account_never_touched_shows_its_email_and_split_name():
    user = User(id="usr_a", email="ada.l@example.org", created_at=T0, name="Ada King Lovelace", totp_enabled=True)

    attrs = users.attributes(user, IdRef("user", "usr_a", 7, external_id="x"), None)

    assert (attrs["id"], attrs["external_id"], attrs["username"]) == (7, "x", "ada.l")
    assert (attrs["first_name"], attrs["last_name"], attrs["language"]) == ("Ada", "King Lovelace", "en")
    assert attrs["2fa"] is True and attrs["root_admin"] is False
    assert attrs["created_at"] == attrs["updated_at"] == "2026-12-05T10:00:00+00:00"
    assert attrs["uuid"] == users.user_uuid("usr_a") != users.user_uuid("usr_b")


def test_create_claims_the_username_and_a_taken_email_gives_it_back():
    ports = _user_ports()
    fields = {"email": "a@example.org", "username": "Ada", "first_name": "Ada", "last_name": "L"}
    made = users.create_user(ports, fields)["attributes"]

    assert (
        made["username"] == "Ada" and ports.users.get(ports.ids.by_number("user", made["id"]).ref).password_hash is None
    )
    with pytest.raises(ValidationError) as taken_name:
        users.create_user(ports, {**fields, "email": "b@example.org", "username": "ada"})
    assert taken_name.value.details["fields"][0]["field"] == "username"
    with pytest.raises(ValidationError) as taken_email:
        users.create_user(ports, {**fields, "username": "other"})
    assert taken_email.value.details["fields"][0]["field"] == "email"
    assert ports.records.get("username", "other") is None  # the claim was given back


def test_delete_removes_through_the_account_service_and_forgets_the_ids():
    ports = _user_ports()
    made = users.create_user(
        ports, {"email": "a@example.org", "username": "ada", "first_name": "A", "last_name": "L", "external_id": "e1"}
    )["attributes"]

    users.delete_user(ports, "usr_admin", str(made["id"]))

    assert [actor for _, actor in REMOVED] == ["usr_admin"]
    assert ports.ids.by_external("user", "e1") is None and ports.records.get("username", "ada") is None
    with pytest.raises(NotFoundError):
        users.find(ports, str(made["id"]))


def test_a_listing_filters_sorts_and_pages():
    rows = [{"object": "x", "attributes": {"id": n, "name": f"n{n}", "ext": f"e{n}"}} for n in (3, 1, 2, 12)]

    page = listing(
        rows,
        {"filter[name]": "N1", "sort": "-id", "per_page": "1"},
        filterable=("name",),
        sortable=("id",),
        base_url="/x",
    )
    exact = listing(rows, {"filter[ext]": "e1"}, filterable=("ext",), sortable=(), base_url="/x", exact=("ext",))

    assert [r["attributes"]["id"] for r in page["data"]] == [12]
    assert page["meta"]["pagination"]["total"] == 2 and page["meta"]["pagination"]["links"] == {"next": "/x?page=2"}
    assert [r["attributes"]["id"] for r in exact["data"]] == [1]


def _node_ports() -> nodes.NodePorts:
    placement = FakePlacementStore()
    return nodes.NodePorts(
        nodes=placement.nodes,
        allocations=placement.allocations,
        loads=placement.node_loads,
        servers_on=placement.servers.on_node,
        ids=FakePteroIds(),
        records=FakePteroRecords(),
        public_url="https://panel.example.com",
    )


NODE = {
    "name": "FRA-1",
    "fqdn": "node1.example.com",
    "scheme": "https",
    "memory": 2048,
    "memory_overallocate": 0,
    "disk": 10000,
    "disk_overallocate": 0,
    "daemon_listen": 8443,
    "daemon_sftp": 2022,
}


def test_a_node_is_renamed_into_pterodactyls_fields_and_its_location_must_exist():
    ports = _node_ports()
    with pytest.raises(ValidationError) as missing:
        nodes.create_node(ports, {**NODE, "location_id": 1}, frozenset())
    assert missing.value.details["fields"][0]["field"] == "location_id"
    location = nodes.create_location(ports, "fra", "Frankfurt")["attributes"]

    node = nodes.create_node(ports, {**NODE, "location_id": location["id"]}, frozenset())["attributes"]

    stored = ports.nodes.get(ports.ids.by_number("node", node["id"]).ref)
    assert (stored.location, stored.daemon_port, stored.memory_mb) == ("fra", 8443, 2048)
    assert (node["daemon_listen"], node["location_id"], node["public"], node["description"]) == (
        8443,
        location["id"],
        True,
        None,
    )


def test_a_location_with_nodes_stays_and_its_short_code_is_fixed():
    ports = _node_ports()
    location = nodes.create_location(ports, "fra", None)["attributes"]
    nodes.create_node(ports, {**NODE, "location_id": location["id"]}, frozenset())

    with pytest.raises(ConflictError):
        nodes.delete_location(ports, str(location["id"]))
    with pytest.raises(ValidationError):
        nodes.update_location(ports, str(location["id"]), {"short": "ams"})
    assert nodes.update_location(ports, str(location["id"]), {"long": "Frankfurt"})["attributes"]["long"] == "Frankfurt"
    with pytest.raises(ValidationError):
        nodes.create_location(ports, "fra", None)


def test_allocation_ids_belong_to_node_ip_and_port():
    ports = _node_ports()
    location = nodes.create_location(ports, "fra", None)["attributes"]
    node = nodes.create_node(ports, {**NODE, "location_id": location["id"]}, frozenset())["attributes"]

    nodes.add_allocations(ports, str(node["id"]), "10.0.0.1", ["25565-25566"], None)
    listed = nodes.list_allocations(ports, str(node["id"]), {}, "/a")["data"]

    refs = [ports.ids.by_number("allocation", a["attributes"]["id"]) for a in listed]
    node_id = ports.ids.by_number("node", node["id"]).ref
    assert [r.ref for r in refs] == [f"{node_id}|10.0.0.1|25565", f"{node_id}|10.0.0.1|25566"]
    assert {r.scope for r in refs} == {node_id}


def test_an_egg_is_its_blueprint_and_a_nest_its_category():
    paper = Blueprint(
        id="bp_paper",
        name="Paper",
        startup="java -jar x",
        docker_images={"Java 21": "img:21"},
        category="Minecraft",
        stop_type="signal",
        stop_value="SIGINT",
        variables=(Variable(name="Jar", env_variable="JAR", description=""),),
        created_at=T0,
        updated_at=T0,
    )
    ports = nests.NestPorts(
        blueprints=FakeBlueprintRepository(
            paper, Blueprint(id="bp_x", name="X", startup="x", docker_images={"a": "b"})
        ),
        ids=FakePteroIds(),
    )

    listed = {n["attributes"]["name"]: n["attributes"] for n in nests.list_nests(ports, {}, "/n", frozenset())["data"]}
    egg = nests.list_eggs(ports, str(listed["Minecraft"]["id"]), frozenset({"variables"}))["data"][0]["attributes"]

    assert set(listed) == {"Minecraft", nests.DEFAULT_NEST}
    assert (
        egg["config"]["stop"] == "^C" and egg["docker_image"] == "img:21" and egg["nest"] == listed["Minecraft"]["id"]
    )
    variable = egg["relationships"]["variables"]["data"][0]["attributes"]
    assert variable["description"] is None and variable["egg_id"] == egg["id"]
    assert variable["created_at"] == "2026-12-05T10:00:00.000000Z"
    assert ports.ids.by_number("variable", variable["id"]).ref == nests.variable_ref("bp_paper", "JAR")
