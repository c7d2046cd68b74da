"""/api/application/servers through the real door on moto: creates land in the user's personal
tenant (created once, on the host's plan) through provision_server; changes, suspension,
reinstall and deletes start the same workflows as /v1 (recorded here, run in tests/statemachines).
One world per module: each test makes its own servers and users it changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain.servers import OFFLINE
from tests.api.pterodactyl_server_world import (
    BASE,
    OTHER_IMAGE,
    World,
    add_server,
    allocation_number,
    create_body,
    number,
    personal_server,
    server_world,
)
from tests.api.tenancy_helpers import T0
from tests.contract.pterodactyl_shapes import assert_shape


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with server_world() as built:
        yield built


# --- create ---


def test_a_create_answers_201_installing_in_the_users_personal_tenant_through_provision_server(world):
    body = create_body("usr_alice", 25565, external_id="whmcs-1")
    body["feature_limits"]["allocations"] = 2
    answer = world.call("POST", BASE, body)

    assert answer.status_code == 201, answer.json_body
    assert_shape("application_server", answer.json_body)
    attrs = answer.json_body["attributes"]
    assert attrs["status"] == "installing" and attrs["suspended"] is False
    assert attrs["external_id"] == "whmcs-1" and attrs["identifier"] == attrs["uuid"][:8]
    assert attrs["user"] == number("user", "usr_alice") and attrs["egg"] == number("egg", "bp_line")
    assert attrs["allocation"] == allocation_number(25565) and attrs["node"] == number("node", "nd_alpha")
    assert attrs["limits"] == {
        "memory": 512,
        "swap": 0,
        "disk": 1024,
        "io": 500,
        "cpu": 100,
        "threads": None,
        "oom_disabled": True,
    }
    assert attrs["container"]["environment"]["MOTD"] == "welcome"
    assert attrs["feature_limits"]["allocations"] == 2  # the client API lets the user take one more port
    assert attrs["feature_limits"]["backups"] == 1  # the create's, not the plan's 4
    assert attrs["container"]["environment"]["P_SERVER_LOCATION"] == "fr.sbg"
    stored = bootstrap.server_repository().get(attrs["uuid"])
    assert stored.tenant_id == "tn_pt-usr_alice" and stored.allocation == ("10.0.0.1", 25565)
    assert bootstrap.allocation_repository().get("nd_alpha", "10.0.0.1", 25565).server_id == stored.uuid
    [payload] = [p for p in world.started("provision_server") if p["server_uuid"] == stored.uuid]
    assert payload["start_on_completion"] is True and payload["tenant_id"] == "tn_pt-usr_alice"
    # The personal tenant: alice owns it, on the host's plan for API-created tenants
    owner = bootstrap.tenancy_repository().get_member("tn_pt-usr_alice", "usr_alice")
    assert owner.role == "owner"
    assert json.loads(bootstrap.placement_store().plan_quotas("tn_pt-usr_alice") or "{}")["servers"] == 20


def test_a_second_server_of_the_user_joins_the_same_personal_tenant(world):
    first = world.call("POST", BASE, create_body("usr_bob", 25566))
    second = world.call("POST", BASE, create_body("usr_bob", 25567))

    assert (first.status_code, second.status_code) == (201, 201), second.json_body
    tenants = {bootstrap.server_repository().get(a.json_body["attributes"]["uuid"]).tenant_id for a in (first, second)}
    assert tenants == {"tn_pt-usr_bob"}
    mine = bootstrap.tenancy_repository().memberships_of_user("usr_bob")
    assert [m.tenant_id for m in mine] == ["tn_pt-usr_bob"]


def test_a_create_takes_its_additional_ports_with_the_default_one(world):
    body = create_body("usr_dave", 25596)
    body["allocation"]["additional"] = [allocation_number(25597), allocation_number(25598)]
    other_node = create_body("usr_dave", 25599)
    other_node["allocation"]["additional"] = [allocation_number(30002, "nd_beta", "10.0.0.2")]

    refused = world.call("POST", BASE, other_node)
    answer = world.call("POST", BASE, body)

    assert refused.status_code == 422, refused.json_body
    assert refused.json_body["errors"][0]["meta"]["source_field"] == "allocation.additional"
    assert holder(25599) is None
    assert answer.status_code == 201, answer.json_body
    stored = bootstrap.server_repository().get(answer.json_body["attributes"]["uuid"])
    assert stored.allocation == ("10.0.0.1", 25596)
    assert stored.additional_allocations == (("10.0.0.1", 25597), ("10.0.0.1", 25598))
    assert holder(25597) == holder(25598) == stored.uuid


def test_the_reservation_transaction_refuses_all_ports_when_an_extra_one_is_taken(world):
    import uuid
    from dataclasses import replace

    from mamba.domain.errors import AllocationTakenError

    store = bootstrap.placement_store()
    template = bootstrap.server_repository().get(add_server("tn_pt-usr_bob", 25601).uuid)  # now holds 25601
    draft = replace(
        template,
        uuid=str(uuid.uuid4()),
        tenant_id="tn_pt-usr_dave",
        allocation=("10.0.0.1", 25600),
        additional_allocations=(("10.0.0.1", 25601),),
        status="provisioning",
    )

    with pytest.raises(AllocationTakenError) as caught:
        store.reserve(draft, store.guard("tn_pt-usr_dave"))

    assert caught.value.details == {"allocation": "10.0.0.1:25601"}
    assert holder(25600) is None and holder(25601) == template.uuid


def test_a_taken_allocation_is_422_on_allocation_default_and_nothing_is_created(world):
    add_server("tn_pt-usr_bob", 25575)
    started = len(world.workflows.started)
    refused = world.call("POST", BASE, create_body("usr_carol", 25575))

    assert refused.status_code == 422, refused.json_body
    [error] = refused.json_body["errors"]
    assert error["code"] == "ValidationException" and error["status"] == "422"
    assert error["meta"]["source_field"] == "allocation.default"
    assert len(world.workflows.started) == started


def test_deploy_places_the_server_on_a_node_of_the_location_within_the_port_range(world):
    body = create_body("usr_carol", 30000)
    del body["allocation"]
    body["deploy"] = {"locations": [number("location", "de.fra")], "dedicated_ip": False, "port_range": ["30001-30002"]}

    answer = world.call("POST", BASE, body)

    assert answer.status_code == 201, answer.json_body
    stored = bootstrap.server_repository().get(answer.json_body["attributes"]["uuid"])
    assert stored.node_id == "nd_beta" and stored.allocation == ("10.0.0.2", 30001)


def test_deploy_with_a_dedicated_ip_avoids_ips_another_server_holds_a_port_of(world):
    add_server("tn_pt-usr_bob", 40000, node="nd_gamma", ip="10.0.0.3")
    body = create_body("usr_erin", 25570)
    del body["allocation"]
    body["deploy"] = {"locations": [number("location", "us.nyc")], "dedicated_ip": True, "port_range": []}

    answer = world.call("POST", BASE, body)

    assert answer.status_code == 201, answer.json_body
    stored = bootstrap.server_repository().get(answer.json_body["attributes"]["uuid"])
    assert (stored.node_id, stored.allocation) == ("nd_gamma", ("10.0.0.4", 40000))  # not 10.0.0.3:40001


def test_deploy_where_no_node_has_room_is_409_takes_no_port_and_gives_the_external_id_back(world):
    big = {"memory": 16384, "swap": 0, "disk": 1024, "io": 500, "cpu": 100}
    body = create_body("usr_carol", 30000, limits=big, external_id="ext-retry")
    del body["allocation"]
    body["deploy"] = {"locations": [number("location", "de.fra")], "dedicated_ip": False, "port_range": []}

    refused = world.call("POST", BASE, body)

    assert refused.status_code == 409, refused.json_body
    assert refused.json_body["errors"][0]["code"] == "ConflictHttpException"
    assert holder(30000, "nd_beta", "10.0.0.2") is None and holder(30002, "nd_beta", "10.0.0.2") is None
    # the failed create gave its external id back: the billing system's retry may use it
    assert bootstrap.ptero_ids().by_external("server", "ext-retry") is None
    retried = world.call("POST", BASE, create_body("usr_carol", 25594, external_id="ext-retry"))
    assert retried.status_code == 201, retried.json_body
    assert (
        world.call("GET", f"{BASE}/external/ext-retry").json_body["attributes"]["uuid"]
        == (retried.json_body["attributes"]["uuid"])
    )


def test_environment_keys_that_are_no_variable_of_the_egg_are_dropped(world):
    body = create_body("usr_dave", 25593, environment={"MOTD": "hi", "STARTUP": "rm -rf /", "P_SERVER_UUID": "x"})

    answer = world.call("POST", BASE, body)

    assert answer.status_code == 201, answer.json_body
    assert bootstrap.server_repository().get(answer.json_body["attributes"]["uuid"]).environment == {"MOTD": "hi"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"limits": {"swap": 0, "disk": 1024, "io": 500, "cpu": 100}}, "limits.memory"),
        ({"egg": 999_999}, "egg"),
        ({"user": 999_999}, "user"),
        ({"docker_image": "ghcr.io/evil/image:latest"}, "docker_image"),
        ({"allocation": None}, "allocation.default"),
        ({"environment": {"MOTD": "x" * 41}}, "environment.MOTD"),
    ],
)
def test_a_bad_create_is_422_naming_the_field(world, change, field):
    refused = world.call("POST", BASE, create_body("usr_dave", 25570, **change))

    assert refused.status_code == 422, refused.json_body
    assert field in [e["meta"]["source_field"] for e in refused.json_body["errors"]]
    assert bootstrap.allocation_repository().get("nd_alpha", "10.0.0.1", 25570).server_id is None


def test_a_read_only_key_cannot_create_and_no_key_is_401(world):
    refused = world.call("POST", BASE, create_body("usr_dave", 25571), key="ro")
    anonymous = world.client.http.get(BASE)

    assert refused.status_code == 403 and refused.json_body["errors"][0]["code"] == "AccessDeniedHttpException"
    assert anonymous.status_code == 401 and anonymous.json_body["errors"][0]["status"] == "401"


# --- read ---


def test_get_by_id_and_by_external_id_answer_the_same_server(world):
    created = world.call("POST", BASE, create_body("usr_erin", 25572, external_id="ext-erin")).json_body["attributes"]

    by_id = world.call("GET", f"{BASE}/{created['id']}", key="ro")
    by_external = world.call("GET", f"{BASE}/external/ext-erin", key="ro")

    assert by_id.status_code == 200 and by_external.status_code == 200, by_external.json_body
    assert_shape("application_server", by_id.json_body)
    assert by_id.json_body == by_external.json_body
    assert by_id.json_body["attributes"]["uuid"] == created["uuid"]


def test_an_unknown_server_is_pterodactyls_404(world):
    for path in (f"{BASE}/999999", f"{BASE}/external/nope", f"{BASE}/not-a-number"):
        missing = world.call("GET", path)
        assert missing.status_code == 404, path
        assert missing.json_body["errors"][0]["code"] == "NotFoundHttpException"


def test_includes_allocations_and_variables_have_pterodactyls_shapes(world):
    server = add_server("tn_pt-usr_alice", 25573)
    server_id = number("server", server.uuid, server.tenant_id)

    answer = world.call("GET", f"{BASE}/{server_id}?include=allocations,variables,node,user,location,nest,egg")

    assert answer.status_code == 200, answer.json_body
    body = answer.json_body
    relationships = body["attributes"].pop("relationships")
    assert_shape("application_server", body)
    [allocation] = relationships["allocations"]["data"]
    assert_shape("application_allocation", allocation)
    assert allocation["attributes"]["port"] == 25573 and allocation["attributes"]["assigned"] is True
    [variable] = relationships["variables"]["data"]
    assert_shape("application_server_variable", variable)
    assert variable["attributes"]["env_variable"] == "MOTD" and variable["attributes"]["server_value"] == "hello"
    assert set(relationships) == {"allocations", "variables", "node", "user", "location", "nest", "egg"}
    # the other areas' objects, by their own transformers, are the ones the ids name
    for name, fixture in (
        ("user", "application_user"),
        ("node", "application_node"),
        ("location", "application_location"),
        ("nest", "application_nest"),
        ("egg", "application_egg"),
    ):
        assert_shape(fixture, relationships[name])
    attrs = body["attributes"]
    assert relationships["user"]["attributes"]["id"] == attrs["user"] == number("user", "usr_alice")
    assert relationships["user"]["attributes"]["email"] == "alice@example.org"
    assert relationships["node"]["attributes"]["id"] == attrs["node"]
    assert relationships["location"]["attributes"]["short"] == "fr.sbg"
    assert relationships["nest"]["attributes"]["id"] == attrs["nest"]
    assert relationships["egg"]["attributes"]["id"] == attrs["egg"]
    assert relationships["egg"]["attributes"]["nest"] == attrs["nest"]
    # the variable ids are the egg's own
    egg_variables = world.call("GET", f"/api/application/nests/{attrs['nest']}/eggs/{attrs['egg']}?include=variables")
    [egg_variable] = egg_variables.json_body["attributes"]["relationships"]["variables"]["data"]
    assert egg_variable["attributes"]["id"] == variable["attributes"]["id"]


def test_include_subusers_lists_the_members_bound_to_the_server_with_pterodactyls_keys(world):
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import MembershipItem

    server = add_server("tn_pt-usr_alice", 25587)
    MembershipItem(
        *keys.membership(server.tenant_id, "usr_carol"),
        kind="membership",
        gsi1pk=keys.memberships_of_user("usr_carol"),
        gsi1sk=keys.user_membership_sort(server.tenant_id),
        tenant_id=server.tenant_id,
        user_id="usr_carol",
        role="custom",
        permissions=["servers.read", "servers.console", "files.read"],
        server_id=server.uuid,
        created_at=T0,
    ).save()
    server_id = number("server", server.uuid, server.tenant_id)

    answer = world.call("GET", f"{BASE}/{server_id}?include=subusers")

    assert answer.status_code == 200, answer.json_body
    [subuser] = answer.json_body["attributes"]["relationships"]["subusers"]["data"]
    assert subuser["object"] == "subuser"
    attrs = subuser["attributes"]
    assert attrs["user_id"] == number("user", "usr_carol") and attrs["server_id"] == server_id
    assert {"websocket.connect", "control.console", "file.read", "allocation.read"} <= set(attrs["permissions"])
    assert "file.create" not in attrs["permissions"] and "control.start" not in attrs["permissions"]


def test_an_include_the_key_may_not_read_is_a_null_resource(world):
    server = add_server("tn_pt-usr_alice", 25595)
    server_id = number("server", server.uuid, server.tenant_id)

    answer = world.call(
        "GET", f"{BASE}/{server_id}?include=user,allocations,node,variables,databases", key="servers_only"
    )

    assert answer.status_code == 200, answer.json_body
    relationships = answer.json_body["attributes"]["relationships"]
    null = {"object": "null_resource", "attributes": None}
    assert relationships["user"] == relationships["allocations"] == relationships["node"] == null
    assert relationships["variables"]["data"]  # the servers right covers the server's own variables
    assert relationships["databases"] == {"object": "list", "data": []}


def test_an_unknown_include_is_400(world):
    refused = world.call("GET", f"{BASE}?include=eggs")

    assert refused.status_code == 400


def test_the_list_is_paged_filtered_and_sorted_by_integer_id(world):
    a = add_server("tn_pt-usr_alice", 25574)
    b = add_server("tn_pt-usr_alice", 25568)
    ids = [number("server", s.uuid, s.tenant_id) for s in (a, b)]

    page = world.call("GET", f"{BASE}?per_page=1&page=1", key="ro")
    named = world.call("GET", f"{BASE}?filter[uuid]={a.uuid[:13]}", key="ro")
    newest_first = world.call("GET", f"{BASE}?sort=-id&per_page=100", key="ro")

    assert page.status_code == 200, page.json_body
    pagination = page.json_body["meta"]["pagination"]
    assert pagination["count"] == 1 and pagination["per_page"] == 1 and pagination["total"] >= 2
    assert set(pagination["links"]) == {"next"}
    for item in page.json_body["data"]:
        assert_shape("application_server", item)
    assert [s["attributes"]["id"] for s in named.json_body["data"]] == [ids[0]]
    listed = [s["attributes"]["id"] for s in newest_first.json_body["data"]]
    assert listed == sorted(listed, reverse=True) and set(ids) <= set(listed)


# --- changes ---


def test_details_rename_and_move_the_external_id_but_not_the_user(world):
    server = add_server("tn_pt-usr_alice", 25569)
    server_id = number("server", server.uuid, server.tenant_id)
    alice = number("user", "usr_alice")

    changed = world.call(
        "PATCH",
        f"{BASE}/{server_id}/details",
        {"name": "Creative", "user": alice, "external_id": "ext-moved", "description": "builds"},
    )
    moved = world.call("PATCH", f"{BASE}/{server_id}/details", {"name": "Creative", "user": number("user", "usr_bob")})

    assert changed.status_code == 200, changed.json_body
    assert_shape("application_server", changed.json_body)
    attrs = changed.json_body["attributes"]
    assert (attrs["name"], attrs["description"], attrs["external_id"]) == ("Creative", "builds", "ext-moved")
    assert world.call("GET", f"{BASE}/external/ext-moved").json_body["attributes"]["id"] == server_id
    assert moved.status_code == 422 and moved.json_body["errors"][0]["meta"]["source_field"] == "user"
    assert bootstrap.server_repository().get(server.uuid).tenant_id == "tn_pt-usr_alice"


def test_details_accept_another_owner_of_a_shared_tenant_as_the_user(world):
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import MembershipItem
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.domain.tenancy import Membership, Tenant

    tenants = DynamoTenantRepository()
    tenants.add_with_owner(
        Tenant(id="tn_team", name="Team", created_at=T0),
        Membership(tenant_id="tn_team", user_id="usr_carol", role="owner", created_at=T0),
    )
    MembershipItem(
        *keys.membership("tn_team", "usr_dave"),
        kind="membership",
        gsi1pk=keys.memberships_of_user("usr_dave"),
        gsi1sk=keys.user_membership_sort("tn_team"),
        tenant_id="tn_team",
        user_id="usr_dave",
        role="owner",
        created_at=T0,
    ).save()
    server = add_server("tn_team", 25602)
    server_id = number("server", server.uuid, server.tenant_id)

    shown = world.call("GET", f"{BASE}/{server_id}").json_body["attributes"]
    as_dave = world.call(
        "PATCH", f"{BASE}/{server_id}/details", {"name": "Team game", "user": number("user", "usr_dave")}
    )
    as_erin = world.call(
        "PATCH", f"{BASE}/{server_id}/details", {"name": "Team game", "user": number("user", "usr_erin")}
    )

    assert shown["user"] == number("user", "usr_carol")  # the tenant's first owner
    assert as_dave.status_code == 200, as_dave.json_body
    assert as_erin.status_code == 422 and as_erin.json_body["errors"][0]["meta"]["source_field"] == "user"


def build_body(server_allocation: int, **limits: Any) -> dict[str, Any]:
    return {
        "allocation": server_allocation,
        "limits": {"memory": 1024, "swap": 0, "disk": 2048, "io": 500, "cpu": 200, **limits},
        "feature_limits": {"databases": 0, "backups": 1, "allocations": 0},
    }


def test_a_build_change_runs_update_server_build_with_the_new_limits(world):
    server, server_id = personal_server(world, "usr_dave", 25576)

    answer = world.call("PATCH", f"{BASE}/{server_id}/build", build_body(allocation_number(25576), threads="0-1"))

    assert answer.status_code == 200, answer.json_body
    assert_shape("application_server", answer.json_body)
    [payload] = [p for p in world.started("update_server_build") if p["server_uuid"] == server.uuid]
    assert payload["limits"]["memory_mb"] == 1024 and payload["limits"]["cpu_percent"] == 200
    assert payload["limits"]["threads"] == "0-1" and payload["previous_limits"]["memory_mb"] == 512
    assert payload["tenant_id"] == "tn_pt-usr_dave"


def test_a_build_with_legacy_top_level_limits_is_read_too(world):
    server = add_server("tn_pt-usr_erin", 25577)
    server_id = number("server", server.uuid, server.tenant_id)
    body = {
        "allocation": allocation_number(25577),
        "memory": 768,
        "swap": 0,
        "disk": 1024,
        "io": 500,
        "cpu": 100,
        "feature_limits": {"databases": None, "backups": 5},
    }

    answer = world.call("PATCH", f"{BASE}/{server_id}/build", body)

    assert answer.status_code == 200, answer.json_body
    [payload] = [p for p in world.started("update_server_build") if p["server_uuid"] == server.uuid]
    assert payload["limits"]["memory_mb"] == 768
    # feature limits are panel-only: written at once, the ones left out (null) kept
    assert answer.json_body["attributes"]["feature_limits"]["backups"] == 5
    assert bootstrap.server_repository().get(server.uuid).feature_limits.allocations == 0


def holder(port: int, node: str = "nd_alpha", ip: str = "10.0.0.1") -> str | None:
    return bootstrap.allocation_repository().get(node, ip, port).server_id


def test_a_build_adds_ports_moves_the_primary_one_and_removes_ports(world):
    server = add_server("tn_pt-usr_erin", 25588)
    server_id = number("server", server.uuid, server.tenant_id)
    new_primary, extra = allocation_number(25589), allocation_number(25590)

    grown = world.call(
        "PATCH", f"{BASE}/{server_id}/build", {"allocation": new_primary, "add_allocations": [new_primary, extra]}
    )
    shrunk = world.call(
        "PATCH", f"{BASE}/{server_id}/build", {"allocation": new_primary, "remove_allocations": [extra]}
    )

    assert grown.status_code == 200, grown.json_body
    assert grown.json_body["attributes"]["allocation"] == new_primary
    assert shrunk.status_code == 200, shrunk.json_body
    stored = bootstrap.server_repository().get(server.uuid)
    assert stored.allocation == ("10.0.0.1", 25589) and stored.additional_allocations == (("10.0.0.1", 25588),)
    assert holder(25588) == holder(25589) == server.uuid and holder(25590) is None
    # ports change without a workflow (Wings reads them at the next start), as the client API's
    assert not [p for p in world.started("update_server_build") if p["server_uuid"] == server.uuid]


def test_a_build_with_bad_ports_or_limits_is_422_and_changes_nothing(world):
    server = add_server("tn_pt-usr_erin", 25578)
    add_server("tn_pt-usr_bob", 25591)  # another server's port
    server_id = number("server", server.uuid, server.tenant_id)
    primary = allocation_number(25578)

    refusals = {
        "allocation": build_body(allocation_number(25599)),  # not one of the server's ports
        "add_allocations": {**build_body(primary), "add_allocations": [allocation_number(25591)]},
        "remove_allocations": {**build_body(primary), "remove_allocations": [primary]},
        "limits.memory": build_body(primary, memory=0),
    }
    other_node = world.call(
        "PATCH",
        f"{BASE}/{server_id}/build",
        {"allocation": primary, "add_allocations": [allocation_number(30002, "nd_beta", "10.0.0.2")]},
    )
    unchanged = world.call("PATCH", f"{BASE}/{server_id}/build", {"allocation": primary})

    for field, body in refusals.items():
        refused = world.call("PATCH", f"{BASE}/{server_id}/build", body)
        assert refused.status_code == 422, (field, refused.json_body)
        assert refused.json_body["errors"][0]["meta"]["source_field"] == field
    assert other_node.status_code == 422, other_node.json_body
    assert unchanged.status_code == 200, unchanged.json_body  # nothing to change: no workflow
    assert not [p for p in world.started("update_server_build") if p["server_uuid"] == server.uuid]
    assert bootstrap.server_repository().get(server.uuid).allocations == (("10.0.0.1", 25578),)
    assert holder(25599) is None and holder(25591) != server.uuid


def test_a_build_with_only_some_limits_keeps_the_others_as_py_dactyl_sends_it(world):
    server = add_server("tn_pt-usr_erin", 25586)
    server_id = number("server", server.uuid, server.tenant_id)

    answer = world.call(
        "PATCH",
        f"{BASE}/{server_id}/build",
        {"allocation": allocation_number(25586), "limits": {"memory": 2048}, "feature_limits": {}},
    )

    assert answer.status_code == 200, answer.json_body
    [payload] = [p for p in world.started("update_server_build") if p["server_uuid"] == server.uuid]
    assert payload["limits"]["memory_mb"] == 2048
    assert payload["limits"]["disk_mb"] == 1024 and payload["limits"]["cpu_percent"] == 100


def test_startup_changes_the_environment_and_refuses_another_egg(world):
    server = add_server("tn_pt-usr_erin", 25579)
    server_id = number("server", server.uuid, server.tenant_id)
    body = {
        "startup": server.startup,
        "environment": {"MOTD": "new day"},
        "egg": number("egg", "bp_line"),
        "image": server.docker_image,
        "skip_scripts": False,
    }

    resent = world.call("GET", f"{BASE}/{server_id}").json_body["attributes"]["container"]["environment"]
    unchanged = world.call("PATCH", f"{BASE}/{server_id}/startup", {**body, "environment": resent})
    answer = world.call("PATCH", f"{BASE}/{server_id}/startup", body)
    other_egg = world.call("PATCH", f"{BASE}/{server_id}/startup", {**body, "egg": number("egg", "bp_other")})
    bad_value = world.call("PATCH", f"{BASE}/{server_id}/startup", {**body, "environment": {"MOTD": "x" * 41}})

    assert unchanged.status_code == 200, unchanged.json_body  # the whole container env sent back: no change
    assert answer.status_code == 200, answer.json_body
    assert_shape("application_server", answer.json_body)
    [payload] = [p for p in world.started("update_server_build") if p["server_uuid"] == server.uuid]
    assert payload["environment"]["MOTD"] == "new day" and payload["previous_environment"]["MOTD"] == "hello"
    assert other_egg.status_code == 422 and other_egg.json_body["errors"][0]["meta"]["source_field"] == "egg"
    assert bad_value.status_code == 422, bad_value.json_body


def test_startup_switches_to_another_image_of_the_egg_and_refuses_any_other(world):
    server = add_server("tn_pt-usr_erin", 25592)
    server_id = number("server", server.uuid, server.tenant_id)
    body = {
        "startup": server.startup,
        "environment": {},
        "egg": number("egg", "bp_line"),
        "image": OTHER_IMAGE,
        "skip_scripts": False,
    }

    switched = world.call("PATCH", f"{BASE}/{server_id}/startup", body)
    foreign = world.call("PATCH", f"{BASE}/{server_id}/startup", {**body, "image": "ghcr.io/evil/miner:latest"})

    assert switched.status_code == 200, switched.json_body
    assert switched.json_body["attributes"]["container"]["image"] == OTHER_IMAGE
    assert bootstrap.server_repository().get(server.uuid).docker_image == OTHER_IMAGE
    assert foreign.status_code == 422 and foreign.json_body["errors"][0]["meta"]["source_field"] == "image"
    assert bootstrap.server_repository().get(server.uuid).docker_image == OTHER_IMAGE


def test_startup_sets_the_administrators_own_startup_command(world):
    server = add_server("tn_pt-usr_erin", 25603)
    server_id = number("server", server.uuid, server.tenant_id)
    command = "python3 line_server.py --port {{SERVER_PORT}} --verbose"
    body = {
        "startup": command,
        "environment": {},
        "egg": number("egg", "bp_line"),
        "image": server.docker_image,
        "skip_scripts": False,
    }

    answer = world.call("PATCH", f"{BASE}/{server_id}/startup", body)

    assert answer.status_code == 200, answer.json_body
    assert answer.json_body["attributes"]["container"]["startup_command"] == command
    assert answer.json_body["attributes"]["container"]["environment"]["STARTUP"] == command
    assert bootstrap.server_repository().get(server.uuid).startup == command


@pytest.mark.parametrize(
    ("tail", "method", "status", "workflow", "force"),
    [
        ("/suspend", "POST", OFFLINE, "suspend_server", None),
        ("/unsuspend", "POST", "suspended", "unsuspend_server", None),
        ("/reinstall", "POST", OFFLINE, "reinstall_server", None),
        ("", "DELETE", OFFLINE, "delete_server", False),
        ("/force", "DELETE", OFFLINE, "delete_server", True),
    ],
)
def test_lifecycle_routes_answer_204_through_the_same_workflows(world, tail, method, status, workflow, force):
    port = {"/suspend": 25580, "/unsuspend": 25581, "/reinstall": 25582, "": 25583, "/force": 25584}[tail]
    server = add_server("tn_pt-usr_erin", port, status=status)
    server_id = number("server", server.uuid, server.tenant_id)

    answer = world.call(method, f"{BASE}/{server_id}{tail}")

    assert answer.status_code == 204, answer.body
    assert answer.body in (b"", None)
    [payload] = [p for p in world.started(workflow) if p["server_uuid"] == server.uuid]
    if force is not None:
        assert payload["force"] is force
    again = world.call(method, f"{BASE}/{server_id}{tail}")
    assert again.status_code == 409, again.json_body  # the first operation holds the server
    assert again.json_body["errors"][0]["status"] == "409"


def test_a_delete_frees_the_external_id_for_reuse(world):
    answer = world.call("POST", BASE, create_body("usr_erin", 25585, external_id="ext-gone"))
    assert answer.status_code == 201, answer.json_body
    created = answer.json_body["attributes"]
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import ServerItem

    ServerItem(*keys.server(created["uuid"])).update(actions=[ServerItem.status.set(OFFLINE)])

    deleted = world.call("DELETE", f"{BASE}/{created['id']}")

    assert deleted.status_code == 204, deleted.json_body
    assert world.call("GET", f"{BASE}/external/ext-gone").status_code == 404
