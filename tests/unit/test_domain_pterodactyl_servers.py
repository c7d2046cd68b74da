"""How a Mamba server reads as Pterodactyl's application ``server`` (mamba.domain.pterodactyl_servers)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba.domain import pterodactyl_servers as rules
from mamba.domain import servers as srv
from mamba.domain.errors import ValidationError
from mamba.domain.servers import FeatureLimits, Limits, Server
from tests.contract.pterodactyl_shapes import assert_shape

UUID = "1a7ce997-259b-452e-8b4e-cecc464142ca"


def server(**changes: object) -> Server:
    base = Server(
        uuid=UUID,
        name="Survival",
        tenant_id="tn_pt-usr_alice",
        node_id="nd_alpha",
        blueprint_id="bp_line",
        allocation=("10.0.0.1", 25565),
        docker_image="ghcr.io/pterodactyl/yolks:java_17",
        startup="java -jar {{SERVER_JARFILE}}",
        limits=Limits(memory_mb=4096, disk_mb=20480, cpu_percent=200, threads="0-3", oom_disabled=False),
        status=srv.OFFLINE,
        created_at="2026-01-01T12:00:00.123Z",
        updated_at="2026-03-15T08:30:12Z",
        environment={"SERVER_JARFILE": "paper.jar", "EULA": True},
        feature_limits=FeatureLimits(backups=5, allocations=3),
        installed_at="2026-01-01T12:05:00Z",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def variable(env: str, default: str, number: int = 7) -> rules.VariableView:
    return rules.VariableView(
        number=number,
        egg=3,
        name=env.title(),
        description="",
        env_variable=env,
        default_value=default,
        user_viewable=True,
        user_editable=True,
        rules="required|string",
        created_at="2024-01-01T12:00:00Z",
        updated_at=None,
    )


def view(target: Server | None = None, external_id: str | None = "whmcs-5") -> rules.ServerView:
    return rules.ServerView(
        server=target or server(),
        number=5,
        external_id=external_id,
        user=1,
        node=2,
        allocation=12,
        nest=1,
        egg=3,
        location="fr.sbg",
        variables=(variable("SERVER_JARFILE", "server.jar"), variable("BUILD_NUMBER", "latest", 8)),
    )


def test_the_attributes_have_pterodactyls_shape_names_and_values():
    attrs = rules.server_attributes(view())

    assert_shape("application_server", {"object": "server", "attributes": attrs})
    assert (attrs["id"], attrs["external_id"], attrs["identifier"]) == (5, "whmcs-5", "1a7ce997")
    assert attrs["limits"] == {
        "memory": 4096,
        "swap": 0,
        "disk": 20480,
        "io": 500,
        "cpu": 200,
        "threads": "0-3",
        "oom_disabled": False,
    }
    assert attrs["feature_limits"] == {"databases": 0, "allocations": 3, "backups": 5}
    assert attrs["container"]["installed"] == 1 and attrs["status"] is None
    assert (attrs["created_at"], attrs["updated_at"]) == ("2026-01-01T12:00:00+00:00", "2026-03-15T08:30:12+00:00")


def test_the_environment_holds_every_variable_as_text_and_the_panels_four():
    env = rules.environment(view())

    assert env == {
        "SERVER_JARFILE": "paper.jar",  # the server's value
        "BUILD_NUMBER": "latest",  # the egg's default
        "EULA": "1",  # a value of no variable still shows, as text
        "STARTUP": "java -jar {{SERVER_JARFILE}}",
        "P_SERVER_LOCATION": "fr.sbg",
        "P_SERVER_UUID": UUID,
        "P_SERVER_ALLOCATION_LIMIT": 3,
    }


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (srv.PROVISIONING, "installing"),
        (srv.INSTALLING, "installing"),
        (srv.INSTALL_FAILED, "install_failed"),
        (srv.FAILED, "install_failed"),
        (srv.SUSPENDED, "suspended"),
        (srv.RESTORING, "restoring_backup"),
        (srv.RUNNING, None),
        (srv.OFFLINE, None),
        (srv.DELETING, None),
    ],
)
def test_status_is_null_for_an_installed_server_and_names_what_is_in_progress(status, shown):
    assert rules.status_of(server(status=status)) == shown


def test_a_suspended_server_says_so_and_an_uninstalled_one_is_installed_0():
    attrs = rules.server_attributes(view(server(status=srv.SUSPENDED, installed_at=None)))

    assert attrs["suspended"] is True and attrs["container"]["installed"] == 0


def test_a_server_variable_has_laravels_dates_and_the_servers_value_or_null():
    target = server()
    jar = rules.variable_attributes(variable("SERVER_JARFILE", "server.jar"), target)
    unset = rules.variable_attributes(variable("BUILD_NUMBER", "latest", 8), target)

    assert_shape("application_server_variable", {"object": "server_variable", "attributes": jar})
    assert jar["server_value"] == "paper.jar" and unset["server_value"] is None
    # Laravel's toArray() dates; a variable never updated shows its creation
    assert jar["created_at"] == jar["updated_at"] == "2024-01-01T12:00:00.000000Z"


def test_personal_tenant_ids_round_trip_and_no_other_tenant_is_personal():
    tenant_id = rules.personal_tenant_id("usr_alice")

    assert tenant_id == "tn_pt-usr_alice"
    assert rules.personal_tenant_user(tenant_id) == "usr_alice"
    assert rules.personal_tenant_user("tn_3fK9aaaaaaaaaaaa") is None


def test_allocation_refs_round_trip():
    ref = rules.allocation_ref("nd_alpha", "10.0.0.1", 25565)

    assert rules.parse_allocation_ref(ref) == ("nd_alpha", "10.0.0.1", 25565)


def test_filters_are_partial_and_case_insensitive_except_the_external_id():
    seen = view()

    assert rules.matches_filters(seen, {"name": "surv", "uuidShort": "1A7C", "image": "java"})
    assert not rules.matches_filters(seen, {"name": "creative"})
    assert rules.matches_filters(seen, {"external_id": "whmcs-5"})
    assert not rules.matches_filters(seen, {"external_id": "whmcs"})
    assert not rules.matches_filters(view(external_id=None), {"external_id": "whmcs-5"})


def test_sort_is_by_integer_id_unless_uuid_is_asked():
    first = replace(view(), number=9)
    second = replace(view(server(uuid="0b7ce997-259b-452e-8b4e-cecc464142ca")), number=4)

    assert [v.number for v in rules.sorted_views([first, second], None)] == [4, 9]
    assert [v.number for v in rules.sorted_views([first, second], ("id", True))] == [9, 4]
    assert [v.number for v in rules.sorted_views([first, second], ("uuid", False))] == [4, 9]


@pytest.mark.parametrize(
    ("port", "ranges", "inside"),
    [
        (25565, (), True),
        (25565, ("25565",), True),
        (25567, ("25565-25570",), True),
        (25571, ("25565-25570", "30000"), False),
        (30000, ("25565-25570", "30000"), True),
    ],
)
def test_port_ranges_accept_single_ports_and_ranges(port, ranges, inside):
    assert rules.port_in_ranges(port, ranges) is inside


def test_a_malformed_port_range_is_a_422_on_deploy_port_range():
    with pytest.raises(ValidationError) as caught:
        rules.port_in_ranges(25565, ("lots",))

    assert caught.value.details["fields"][0]["field"] == "deploy.port_range"


def test_env_text_tells_a_resend_from_a_change():
    assert rules.env_text(10) == rules.env_text("10")
    assert rules.env_text(True) == "1"
    assert rules.env_text(None) is None
