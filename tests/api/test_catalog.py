"""The catalog a tenant reads: GET .../blueprints, /v1/plans, .../locations, .../usage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mamba import bootstrap
from mamba.domain import billing as b
from mamba.domain.blueprints import Variable
from mamba.domain.quotas import Quotas
from mamba.schemas.catalog import CatalogBlueprintList, LocationList, PublicPlanList, TenantUsageOut
from tests.api.tenancy_helpers import Api, make_world
from tests.fakes import FakeWorkflows
from tests.server_world import add_blueprint, add_node, create_body, set_plan_quotas
from tests.support import DynamoCounter


@pytest.fixture
def api(client: Any) -> Iterator[Api]:
    world = make_world(client)
    with bootstrap.override(workflows=FakeWorkflows()):
        yield world


# --- blueprints ---------------------------------------------------------------------------------


def test_blueprints_list_user_visible_variables_with_parsed_rules_and_no_admin_fields_when_a_member_asks(api):
    # Given a blueprint with a visible, a read-only and a hidden variable
    add_blueprint(
        variables=(
            Variable(name="Message", env_variable="MOTD", default_value="hi", rules="required|string|max:40"),
            Variable(name="Mode", env_variable="MODE", default_value="a", rules="nullable|in:a,b", user_editable=False),
            Variable(name="Secret", env_variable="SECRET", default_value="x", user_viewable=False),
            Variable(name="Code", env_variable="CODE", default_value="ab", rules="required|regex:/^[a-z|]+$/i"),
        )
    )

    # When alice lists the tenant's blueprints
    response = api.get("/v1/tenants/tn_a/blueprints", "usr_alice")

    # Then she sees the visible variables with structured rules, and nothing only admins see
    assert response.status_code == 200, response.json_body
    listed = CatalogBlueprintList.model_validate(response.json_body)
    (blueprint,) = listed.items
    assert blueprint.id == "bp_line" and blueprint.default_docker_image == "ghcr.io/pterodactyl/yolks:python_3.12"
    by_env = {v.env_variable: v for v in blueprint.variables}
    assert set(by_env) == {"MOTD", "MODE", "CODE"}
    assert by_env["MOTD"].required and [(r.name, r.args) for r in by_env["MOTD"].rule_list] == [
        ("required", []),
        ("string", []),
        ("max", ["40"]),
    ]
    assert not by_env["MODE"].user_editable and by_env["MODE"].rule_list[1].args == ["a", "b"]
    assert [(r.name, r.args) for r in by_env["CODE"].rule_list][1] == ("regex", ["/^[a-z|]+$/i"])
    raw = response.json_body["items"][0]
    assert not {"install_script", "startup", "config_files", "install_container"} & set(raw)


def test_blueprints_answer_404_when_the_caller_is_not_a_member_of_the_tenant(api):
    add_blueprint()
    assert api.get("/v1/tenants/tn_a/blueprints", "usr_bob").status_code == 404


# --- plans --------------------------------------------------------------------------------------


def test_plans_are_public_and_list_active_plans_with_prices_and_no_stripe_ids_when_anyone_asks(api):
    # Given an active paid plan, an inactive one, and the free plan of Settings
    repo = bootstrap.billing_repository()
    quotas = Quotas(servers=3, memory_mb=8192, disk_mb=40960, backup_bytes=10**10, backups_per_server=3)
    repo.add_plan(
        b.Plan(id="pro", name="Pro", quotas=quotas, price_id="price_pro", amount_cents=1500, currency="eur",
               interval="month", created_at="2026-01-01T00:00:00Z", updated_at="2026-01-01T00:00:00Z")
    )  # fmt: skip
    repo.add_plan(
        b.Plan(id="old", name="Old", quotas=quotas, price_id="price_old", active=False,
               created_at="2026-01-02T00:00:00Z", updated_at="2026-01-02T00:00:00Z")
    )  # fmt: skip

    # When someone without credentials asks
    response = api.get("/v1/plans", None)

    # Then the free plan comes first, then the active paid plan with its price; no Stripe ids
    assert response.status_code == 200, response.json_body
    listed = PublicPlanList.model_validate(response.json_body)
    assert [p.id for p in listed.items] == ["free", "pro"]
    pro = listed.items[1]
    assert (pro.amount_cents, pro.currency, pro.interval, pro.quotas.servers, pro.free) == (
        1500,
        "eur",
        "month",
        3,
        False,
    )
    assert listed.items[0].free and listed.items[0].amount_cents == 0
    assert "price_pro" not in response.body.decode()


def test_admin_plan_display_price_round_trips_when_an_admin_sets_it(api):
    body = {"id": "team", "name": "Team", "price_id": "price_team", "amount_cents": 4900, "currency": "eur",
            "interval": "year", "quotas": {"servers": 5, "memory_mb": 1, "disk_mb": 1, "backup_bytes": 0,
                                            "backups_per_server": 0}}  # fmt: skip
    created = api.post("/v1/admin/plans", "usr_root", body)
    assert created.status_code == 201, created.json_body
    assert (created.json_body["amount_cents"], created.json_body["interval"]) == (4900, "year")
    changed = api.patch("/v1/admin/plans/team", "usr_root", {"currency": "usd"})
    assert changed.status_code == 200 and changed.json_body["currency"] == "usd"
    bad = api.patch("/v1/admin/plans/team", "usr_root", {"currency": "EURO"})
    assert bad.status_code == 400


# --- locations ----------------------------------------------------------------------------------


def test_locations_say_where_capacity_is_and_never_name_nodes_when_a_member_asks(api):
    # Given a roomy node in fra, a full one in ams, one in maintenance in par, one closed to tn_a in nyc
    add_node("alpha", location="fra", memory_mb=8192)
    add_node("beta", location="ams", memory_mb=100, ip="10.0.0.2")
    add_node("gamma", location="par", maintenance=True, ip="10.0.0.3")
    add_node("delta", location="nyc", allowed_tenants=("tn_b",), ip="10.0.0.4")

    # When alice asks where a 512 MiB server fits
    response = api.get("/v1/tenants/tn_a/locations?memory_mb=512&disk_mb=1024", "usr_alice")

    # Then fra is available, ams is listed but full, par and nyc are not offered; no node leaks
    assert response.status_code == 200, response.json_body
    listed = LocationList.model_validate(response.json_body)
    assert [(loc.id, loc.available) for loc in listed.items] == [("ams", False), ("fra", True)]
    text = response.body.decode()
    assert "nd_" not in text and "alpha" not in text and "example.org" not in text
    # and bob's tenant is offered nyc
    bob = LocationList.model_validate(api.get("/v1/tenants/tn_b/locations", "usr_bob").json_body)
    assert ("nyc", True) in [(loc.id, loc.available) for loc in bob.items]


def test_locations_refuse_a_size_that_is_not_a_number(api):
    response = api.get("/v1/tenants/tn_a/locations?memory_mb=lots", "usr_alice")
    assert response.status_code == 400 and response.json_body["error"]["code"] == "VALIDATION_ERROR"


def test_locations_answer_404_for_another_tenant(api):
    assert api.get("/v1/tenants/tn_b/locations", "usr_alice").status_code == 404


# --- usage --------------------------------------------------------------------------------------


def test_usage_counts_servers_memory_disk_and_backup_bytes_against_the_plan_when_servers_exist(api, monkeypatch):
    # Given tn_a on a 3-server plan with one server just created and 5 MB of backups
    add_node("alpha", location="fra")
    add_blueprint()
    set_plan_quotas("tn_a", {"servers": 3, "memory_mb": 4096, "disk_mb": -1, "backup_bytes": 10**9})
    created = api.post("/v1/tenants/tn_a/servers", "usr_alice", create_body())
    assert created.status_code == 202, created.json_body
    bootstrap.backup_repository().set_usage("tn_a", 5_000_000, "2026-11-25T10:00:00Z")
    counter = DynamoCounter(monkeypatch)

    # When alice reads the usage
    response = api.get("/v1/tenants/tn_a/usage", "usr_alice")

    # Then it says 1 of 3 servers, the memory and disk held, and the backup bytes
    assert response.status_code == 200, response.json_body
    usage = TenantUsageOut.model_validate(response.json_body)
    assert (usage.servers.used, usage.servers.limit) == (1, 3)
    assert (usage.memory_mb.used, usage.memory_mb.limit) == (512, 4096)
    assert usage.disk_mb.used == 1024 and usage.disk_mb.unlimited
    assert (usage.backup_bytes.used, usage.backup_bytes.limit) == (5_000_000, 10**9)
    assert usage.backups_per_server.limit == bootstrap.settings().free_plan_backups_per_server
    # and it costs the guard's BatchGetItem, one BatchGetItem and one Query
    assert counter.actions == ["BatchGetItem", "BatchGetItem", "Query"]


def test_usage_shows_the_free_plan_when_the_tenant_has_no_plan(api):
    usage = TenantUsageOut.model_validate(api.get("/v1/tenants/tn_b/usage", "usr_bob").json_body)
    s = bootstrap.settings()
    assert usage.plan_id == "free" and usage.servers.used == 0 and usage.servers.limit == s.free_plan_servers


def test_usage_answers_404_for_another_tenant(api):
    assert api.get("/v1/tenants/tn_b/usage", "usr_alice").status_code == 404
