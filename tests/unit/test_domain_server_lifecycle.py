"""The pure lifecycle rules: which status allows which operation, limits, quotas,
suspension and reconciliation, table-tested."""

from __future__ import annotations

import pytest

from mamba.domain import server_lifecycle as life
from mamba.domain import servers as srv
from mamba.domain.blueprints import Variable
from mamba.domain.errors import ConflictError, QuotaExceededError, ValidationError
from mamba.domain.servers import Limits, Server

T0 = "2026-12-01T10:00:00Z"


def server(status: str = srv.OFFLINE, *, uuid: str = "d3aac109-e5a0-4331-b03e-3454f7e136dc", **kw) -> Server:
    return Server(
        uuid=uuid,
        name="s",
        tenant_id="tn_a",
        node_id="nd_1",
        blueprint_id="bp_1",
        allocation=("10.0.0.5", 25565),
        docker_image="img",
        startup="run",
        limits=kw.pop("limits", Limits(memory_mb=1024, disk_mb=2048)),
        status=status,
        created_at=T0,
        updated_at=T0,
        **kw,
    )


# Expected: operation → statuses it may start from (the rest are 409).
TABLE = {
    life.DELETE: set(srv.STATUSES) - {srv.PROVISIONING},
    life.REINSTALL: {srv.OFFLINE, srv.INSTALL_FAILED, srv.STARTING, srv.RUNNING, srv.STOPPING},
    life.UPDATE_BUILD: {srv.OFFLINE, srv.INSTALL_FAILED, srv.STARTING, srv.RUNNING, srv.STOPPING, srv.SUSPENDED},
    life.SUSPEND: set(srv.STATUSES) - {srv.PROVISIONING, srv.DELETING, srv.FAILED},
    life.UNSUSPEND: {srv.SUSPENDED},
}

# The status each operation moves a server to, which the transition table must allow.
TARGET = {
    life.DELETE: srv.DELETING,
    life.REINSTALL: srv.INSTALLING,
    life.SUSPEND: srv.SUSPENDED,
    life.UNSUSPEND: srv.OFFLINE,
}


@pytest.mark.parametrize("operation", sorted(TARGET))
def test_every_allowed_start_is_a_move_the_transition_table_allows(operation):
    for status in TABLE[operation]:
        assert srv.can_transition(status, TARGET[operation]), (status, TARGET[operation])


@pytest.mark.parametrize("operation", sorted(TABLE))
@pytest.mark.parametrize("status", srv.STATUSES)
def test_each_operation_starts_only_from_its_statuses(operation, status):
    if status in TABLE[operation]:
        life.require_allowed(server(status), operation)
    else:
        with pytest.raises(ConflictError) as caught:
            life.require_allowed(server(status), operation)
        assert caught.value.details["status"] == status
        assert status in caught.value.message


def test_every_operation_has_steps():
    assert set(life.STEPS) == set(TABLE)
    assert all(life.STEPS[op] for op in TABLE)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"memory_mb": 63}, "memory_mb"),
        ({"disk_mb": 100}, "disk_mb"),
        ({"cpu_percent": -1}, "cpu_percent"),
        ({"swap_mb": -2}, "swap_mb"),
        ({"io_weight": 9}, "io_weight"),
        ({"io_weight": 1001}, "io_weight"),
        ({"threads": "0-1,x"}, "threads"),
        ({"gpu": 1}, "gpu"),
    ],
)
def test_bad_limits_name_their_field(changes, field):
    with pytest.raises(ValidationError) as caught:
        life.merge_limits(Limits(memory_mb=1024, disk_mb=2048), changes)
    assert caught.value.details["fields"][0]["field"] == f"limits.{field}"


def test_good_limits_merge_over_the_current_ones():
    merged = life.merge_limits(
        Limits(memory_mb=1024, disk_mb=2048, threads="0"), {"memory_mb": 2048, "threads": "0-1,3"}
    )
    assert merged == Limits(memory_mb=2048, disk_mb=2048, threads="0-1,3")
    assert life.limits_from_dict(life.limits_to_dict(merged)) == merged


def test_unlimited_swap_and_cpu_are_allowed():
    assert life.check_limits(Limits(memory_mb=64, disk_mb=128, cpu_percent=0, swap_mb=-1)).swap_mb == -1


@pytest.mark.parametrize(
    ("used", "wanted", "quota", "over"),
    [(3000, 1096, 4096, False), (3000, 1097, 4096, True), (10**6, 10**6, -1, False), (0, 1, 0, True)],
)
def test_build_quota_counts_the_other_servers(used, wanted, quota, over):
    others = life.TenantTotals(memory_mb=used, disk_mb=0)
    limits = Limits(memory_mb=wanted, disk_mb=128)
    if over:
        with pytest.raises(QuotaExceededError) as caught:
            life.check_build_quota(limits, others, quota, -1)
        assert caught.value.details["limit"] == "memory_mb"
    else:
        life.check_build_quota(limits, others, quota, -1)


def test_totals_leave_out_the_server_itself_and_failed_servers():
    a = server(uuid="00000000-0000-4000-8000-00000000000a")
    b = server(uuid="00000000-0000-4000-8000-00000000000b")
    gone = server(srv.FAILED, uuid="00000000-0000-4000-8000-00000000000c")
    assert life.totals_without([a, b, gone], a.uuid) == life.TenantTotals(1024, 2048)


@pytest.mark.parametrize(
    ("installed_at", "status"), [(T0, srv.OFFLINE), (None, srv.OFFLINE)], ids=["installed", "never-installed"]
)
def test_unsuspend_returns_offline(installed_at, status):
    suspended = life.suspended(server(srv.RUNNING, installed_at=installed_at), now="later")
    assert suspended.status == srv.SUSPENDED and suspended.updated_at == "later"
    assert life.suspended(suspended, now="even later") is suspended
    assert life.unsuspended(suspended, now="now").status == status
    running = server(srv.RUNNING)
    assert life.unsuspended(running, now="now") is running


def test_observations_parse_the_node_list_and_skip_unusable_entries():
    listing = [
        {"state": "running", "configuration": {"uuid": "a"}, "utilization": {"memory_bytes": 5}},
        {"state": "exploded", "configuration": {"uuid": "b"}},
        {"state": "offline", "configuration": None},
        "junk",
        {"state": "offline", "configuration": {"uuid": "c"}, "utilization": None},
    ]
    seen = life.observations(listing)  # type: ignore[arg-type]
    assert set(seen) == {"a", "c"}
    assert seen["a"].utilization == {"memory_bytes": 5}
    assert seen["c"].utilization == {}


@pytest.mark.parametrize(
    ("status", "wings", "expected"),
    [
        (srv.OFFLINE, "running", srv.RUNNING),
        (srv.RUNNING, "offline", srv.OFFLINE),
        (srv.STARTING, "stopping", srv.STOPPING),
        (srv.SUSPENDED, "running", srv.SUSPENDED),
        (srv.DELETING, "offline", srv.DELETING),
        (srv.INSTALLING, "offline", srv.INSTALLING),
        (srv.PROVISIONING, "offline", srv.PROVISIONING),
        (srv.FAILED, "running", srv.FAILED),
        (srv.INSTALL_FAILED, "offline", srv.INSTALL_FAILED),
    ],
)
def test_the_panels_own_statuses_win_over_what_wings_reports(status, wings, expected):
    observation = life.Observation("x", wings, {})
    assert life.reconciled_status(server(status), observation) == expected


def test_a_server_the_node_does_not_report_keeps_its_status():
    assert life.reconciled_status(server(srv.RUNNING), None) == srv.RUNNING


VARIABLES = (
    Variable(name="MOTD", env_variable="MOTD", default_value="hi", rules="required|string|max:8"),
    Variable(name="Players", env_variable="MAX_PLAYERS", default_value="10", rules="required|integer|between:1,100"),
    Variable(name="PvP", env_variable="PVP", default_value="true", rules="required|boolean"),
    Variable(name="Build", env_variable="BUILD", default_value="1", user_editable=False),
)


def test_environment_changes_pass_the_blueprint_rules():
    merged = life.merge_environment(
        VARIABLES, {"MOTD": "hi", "MAX_PLAYERS": 10, "BUILD": "1"}, {"MAX_PLAYERS": 20, "PVP": False, "MOTD": None}
    )
    assert merged == {"MOTD": "hi", "MAX_PLAYERS": 20, "PVP": False, "BUILD": "1"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"MAX_PLAYERS": 101}, "environment.MAX_PLAYERS"),
        ({"MOTD": "far too long"}, "environment.MOTD"),
        ({"PVP": "perhaps"}, "environment.PVP"),
        ({"BUILD": "2"}, "environment.BUILD"),
        ({"PATH": "/tmp"}, "environment.PATH"),
    ],
    ids=["out-of-range", "too-long", "not-boolean", "not-editable", "unknown"],
)
def test_environment_changes_that_fail_name_the_variable(changes, field):
    with pytest.raises(ValidationError) as caught:
        life.merge_environment(VARIABLES, {}, changes)
    assert [f["field"] for f in caught.value.details["fields"]] == [field]


@pytest.mark.parametrize(
    ("status", "current", "by", "holder"),
    [
        (srv.RUNNING, None, life.BY_BILLING, life.BY_BILLING),
        (srv.RUNNING, None, life.BY_ADMIN, life.BY_ADMIN),
        (srv.SUSPENDED, life.BY_BILLING, life.BY_ADMIN, life.BY_ADMIN),
        (srv.SUSPENDED, life.BY_ADMIN, life.BY_BILLING, life.BY_ADMIN),
        (srv.SUSPENDED, life.BY_BILLING, life.BY_BILLING, life.BY_BILLING),
        (srv.SUSPENDED, None, life.BY_BILLING, life.BY_BILLING),
    ],
)
def test_an_admins_suspension_is_never_downgraded(status, current, by, holder):
    assert life.suspender_after_suspend(status, current, by) == holder


@pytest.mark.parametrize(
    ("current", "by", "allowed"),
    [
        (life.BY_ADMIN, life.BY_BILLING, False),
        (life.BY_ADMIN, life.BY_ADMIN, True),
        (life.BY_BILLING, life.BY_BILLING, True),
        (life.BY_BILLING, life.BY_ADMIN, True),
        (None, life.BY_BILLING, True),
    ],
)
def test_billing_lifts_only_its_own_suspension(current, by, allowed):
    assert life.may_unsuspend(current, by) is allowed


@pytest.mark.parametrize(
    ("status", "current", "by", "holder"),
    [
        (srv.SUSPENDED, life.BY_BILLING, life.BY_TENANT_ADMIN, life.BY_TENANT_ADMIN),
        (srv.SUSPENDED, life.BY_TENANT_ADMIN, life.BY_BILLING, life.BY_TENANT_ADMIN),
        (srv.SUSPENDED, life.BY_ADMIN, life.BY_TENANT_ADMIN, life.BY_ADMIN),
        (srv.SUSPENDED, life.BY_TENANT_ADMIN, life.BY_ADMIN, life.BY_ADMIN),
    ],
)
def test_a_tenant_suspension_by_an_admin_ranks_between_billing_and_a_server_suspension(status, current, by, holder):
    assert life.suspender_after_suspend(status, current, by) == holder


@pytest.mark.parametrize(
    ("current", "by", "allowed"),
    [
        (life.BY_TENANT_ADMIN, life.BY_BILLING, False),
        (life.BY_TENANT_ADMIN, life.BY_TENANT_ADMIN, True),
        (life.BY_BILLING, life.BY_TENANT_ADMIN, True),
        (life.BY_ADMIN, life.BY_TENANT_ADMIN, False),
        (life.BY_TENANT_ADMIN, life.BY_ADMIN, True),
    ],
)
def test_lifting_a_tenant_suspension_never_lifts_a_stronger_one(current, by, allowed):
    assert life.may_unsuspend(current, by) is allowed


@pytest.mark.parametrize(
    ("by", "holds", "other"),
    [
        (life.BY_TENANT_ADMIN, frozenset({life.BY_BILLING}), life.BY_BILLING),
        (life.BY_BILLING, frozenset({life.BY_TENANT_ADMIN}), life.BY_TENANT_ADMIN),
        (life.BY_BILLING, frozenset({life.BY_BILLING}), None),
        (life.BY_TENANT_ADMIN, frozenset(), None),
        (life.BY_ADMIN, frozenset({life.BY_BILLING, life.BY_TENANT_ADMIN}), None),
    ],
)
def test_the_tenants_other_suspension_keeps_its_servers_suspended_when_one_is_lifted(by, holds, other):
    assert life.other_tenant_hold(by, holds) == other


@pytest.mark.parametrize(
    ("previous", "back_to"),
    [
        (srv.OFFLINE, srv.OFFLINE),
        (srv.INSTALL_FAILED, srv.INSTALL_FAILED),
        (srv.RUNNING, srv.OFFLINE),
        (srv.STARTING, srv.OFFLINE),
        (srv.STOPPING, srv.OFFLINE),
    ],
)
def test_a_refused_reinstall_goes_back_only_where_the_transition_table_allows(previous, back_to):
    assert life.status_after_refused_reinstall(previous) == back_to
    assert srv.can_transition(srv.INSTALLING, back_to)
