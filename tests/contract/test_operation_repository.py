"""One test class, run over the in-memory fake and DynamoOperationRepository on moto, so
the fake that service tests trust behaves like the adapter production uses."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba.domain import operations as ops
from mamba.domain.errors import ConflictError, NotFoundError
from tests.fakes import FakeOperationRepository

T0, T1, T2 = "2026-11-25T10:00:00Z", "2026-11-25T10:00:01Z", "2026-11-25T10:00:02Z"


@pytest.fixture(params=["fake", "dynamo"])
def repo(request):
    if request.param == "fake":
        return FakeOperationRepository()
    request.getfixturevalue("aws")
    from mamba import bootstrap

    return bootstrap.operation_repository()


def _new(op_id: str = "op_1", tenant_id: str = "t_1") -> ops.Operation:
    return ops.new_operation(op_id, tenant_id, "server.create", ["allocate", "install"], T0, target="srv_1")


def _same_except_updated_at(a: ops.Operation, b: ops.Operation) -> None:
    # The adapter stamps updated_at itself on save; everything else must round-trip exactly.
    assert replace(a, updated_at="") == replace(b, updated_at="")


class TestOperationRepositoryContract:
    def test_get_returns_the_operation_when_added(self, repo):
        op = _new()

        repo.add(op)

        assert repo.get("t_1", "op_1") == op

    def test_add_conflicts_when_the_id_already_exists(self, repo):
        repo.add(_new())

        with pytest.raises(ConflictError):
            repo.add(_new())

    def test_get_is_not_found_when_the_operation_belongs_to_another_tenant(self, repo):
        repo.add(_new(tenant_id="t_1"))

        with pytest.raises(NotFoundError):
            repo.get("t_2", "op_1")

    def test_get_is_not_found_when_the_id_is_unknown(self, repo):
        with pytest.raises(NotFoundError):
            repo.get("t_1", "op_missing")

    def test_find_returns_the_operation_by_id_alone(self, repo):
        repo.add(_new("op_1", "t_1"))
        repo.add(_new("op_2", "t_2"))

        assert repo.find("op_2").tenant_id == "t_2"
        assert repo.find("op_1") == repo.get("t_1", "op_1")

    def test_find_is_not_found_when_the_id_is_unknown(self, repo):
        with pytest.raises(NotFoundError):
            repo.find("op_missing")

    def test_save_persists_steps_status_and_error(self, repo):
        op = _new()
        repo.add(op)
        op = ops.record_step(op, "allocate", "succeeded", T1, detail="10.0.0.5:25565")
        op = ops.record_step(op, "install", "failed", T2, detail="exit 1")
        op = ops.finish(op, "failed", T2, {"code": "INSTALL_FAILED", "message": "The install script failed."})

        repo.save(op)

        _same_except_updated_at(repo.get("t_1", "op_1"), op)
        _same_except_updated_at(repo.find("op_1"), op)

    def test_save_keeps_other_operations_untouched(self, repo):
        repo.add(_new("op_1"))
        repo.add(_new("op_2"))

        repo.save(ops.record_step(repo.find("op_1"), "allocate", "running", T1))

        assert repo.get("t_1", "op_2") == _new("op_2")

    def test_save_is_not_found_when_the_operation_was_never_added(self, repo):
        with pytest.raises(NotFoundError):
            repo.save(_new("op_never_added"))

    def test_the_recorded_workflow_input_and_attempt_round_trip(self, repo):
        op = ops.new_operation(
            "op_in", "t_1", "provision_server", ["verify"], T0, workflow="provision_server", input={"a": [1, "x"]}
        )

        repo.add(op)

        found = repo.find("op_in")
        assert (found.workflow, found.input, found.attempt) == ("provision_server", {"a": [1, "x"]}, 1)

    def test_list_all_pages_one_status_newest_first_across_tenants(self, repo):
        from mamba.domain.pages import PageRequest

        for n, (tenant_id, status) in enumerate([("t_1", "failed"), ("t_2", "failed"), ("t_1", "running")]):
            op = ops.new_operation(f"op_{n}", tenant_id, "server.create", ["a"], f"2026-11-25T10:00:0{n}Z")
            repo.add(op)
            op = ops.record_step(op, "a", "running", T0)
            repo.save(ops.finish(op, "failed", T0) if status == "failed" else op)

        first = repo.list_all(PageRequest(limit=1), status="failed")
        second = repo.list_all(PageRequest(limit=1, cursor=first.next_cursor), status="failed")
        everything = repo.list_all(PageRequest(limit=10))
        since = repo.list_all(PageRequest(limit=10), since="2026-11-25T10:00:01Z")

        assert [o.id for o in first.items] == ["op_1"] and first.next_cursor
        assert [o.id for o in second.items] == ["op_0"] and second.next_cursor is None
        assert [o.id for o in everything.items] == ["op_2", "op_1", "op_0"]
        assert [o.id for o in since.items] == ["op_2", "op_1"]
        assert [o.id for o in repo.list_all(PageRequest(limit=10), status="running").items] == ["op_2"]

    def test_begin_retry_lets_exactly_one_retry_of_a_failed_attempt_through(self, repo):
        op = ops.new_operation("op_r", "t_1", "check_platform", ["a"], T0, workflow="check_platform", input={})
        repo.add(op)
        failed = ops.finish(op, "failed", T1, {"code": "X", "message": "broke"})
        repo.save(failed)
        retried = ops.begin_retry(failed, T2)

        repo.begin_retry(retried)
        with pytest.raises(ConflictError):
            repo.begin_retry(retried)

        found = repo.find("op_r")
        assert (found.status, found.attempt, found.error) == ("pending", 2, None)
