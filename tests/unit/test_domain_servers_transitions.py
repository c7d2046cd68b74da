"""The server status table: every (from, to) pair, and transition() around it."""

from __future__ import annotations

import pytest

from mamba.domain import servers as srv
from mamba.domain.errors import ConflictError, ValidationError

T0 = "2026-11-25T10:00:00Z"
T1 = "2026-11-25T10:05:00Z"

ALLOWED = {
    ("provisioning", "installing"),
    ("provisioning", "failed"),
    ("provisioning", "deleting"),
    ("installing", "offline"),
    ("installing", "install_failed"),
    ("installing", "failed"),
    ("installing", "suspended"),
    ("installing", "deleting"),
    ("install_failed", "installing"),
    ("install_failed", "failed"),
    ("install_failed", "suspended"),
    ("install_failed", "deleting"),
    ("offline", "starting"),
    ("offline", "running"),
    ("offline", "stopping"),
    ("offline", "installing"),
    ("offline", "restoring"),
    ("offline", "suspended"),
    ("offline", "deleting"),
    ("offline", "failed"),
    ("starting", "running"),
    ("starting", "stopping"),
    ("starting", "offline"),
    ("starting", "installing"),
    ("starting", "restoring"),
    ("starting", "suspended"),
    ("starting", "deleting"),
    ("running", "stopping"),
    ("running", "starting"),
    ("running", "offline"),
    ("running", "installing"),
    ("running", "restoring"),
    ("running", "suspended"),
    ("running", "deleting"),
    ("stopping", "offline"),
    ("stopping", "running"),
    ("stopping", "starting"),
    ("stopping", "installing"),
    ("stopping", "restoring"),
    ("stopping", "suspended"),
    ("stopping", "deleting"),
    ("restoring", "offline"),
    ("restoring", "failed"),
    ("restoring", "suspended"),
    ("restoring", "deleting"),
    ("suspended", "offline"),
    ("suspended", "deleting"),
    ("deleting", "failed"),
    ("failed", "deleting"),
    ("failed", "provisioning"),  # an admin's retry of the failed provisioning
}


@pytest.mark.parametrize("current", srv.STATUSES)
@pytest.mark.parametrize("target", srv.STATUSES)
def test_transition_table_allows_exactly_the_listed_moves(current, target):
    expected = current == target or (current, target) in ALLOWED

    assert srv.can_transition(current, target) is expected


def test_every_status_has_a_row_in_the_table():
    assert set(srv.TRANSITIONS) == set(srv.STATUSES)


def server(status: str) -> srv.Server:
    return srv.Server(
        uuid="d3aac109-e5a0-4331-b03e-3454f7e136dc",
        name="s",
        tenant_id="tn_a",
        node_id="nd_a",
        blueprint_id="bp",
        allocation=("10.0.0.1", 25565),
        docker_image="img",
        startup="run",
        limits=srv.Limits(memory_mb=512, disk_mb=1024),
        status=status,
        created_at=T0,
        updated_at=T0,
    )


def test_transition_sets_status_reason_and_time_when_allowed():
    moved = srv.transition(server("installing"), "failed", now=T1, reason="install script failed")

    assert (moved.status, moved.status_reason, moved.updated_at) == ("failed", "install script failed", T1)


def test_transition_to_the_same_status_returns_the_server_unchanged():
    same = server("running")

    assert srv.transition(same, "running", now=T1) is same


def test_transition_refused_names_both_statuses():
    with pytest.raises(ConflictError) as caught:
        srv.transition(server("failed"), "running", now=T1)

    assert caught.value.details == {"uuid": server("failed").uuid, "status": "failed", "target": "running"}


def test_unknown_status_is_a_validation_error():
    with pytest.raises(ValidationError):
        srv.can_transition("running", "exploded")
