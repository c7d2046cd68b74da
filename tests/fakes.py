"""Ten-line fakes of the ports. tests/contract runs the same tests over a fake and its real
adapter, so the fakes keep the adapters' behaviour (errors included)."""

from __future__ import annotations

from typing import Any

from mamba.domain.errors import ConflictError, DependencyUnavailableError, NotFoundError
from mamba.domain.operations import Operation


class FakeOperationRepository:
    def __init__(self) -> None:
        self.ops: dict[str, Operation] = {}

    def add(self, op: Operation) -> None:
        if op.id in self.ops:
            raise ConflictError("The operation already exists.", {"operation_id": op.id})
        self.ops[op.id] = op

    def get(self, tenant_id: str, op_id: str) -> Operation:
        op = self.ops.get(op_id)
        if op is None or op.tenant_id != tenant_id:  # another tenant's operation does not exist
            raise NotFoundError("Operation not found.", {"operation_id": op_id})
        return op

    def find(self, op_id: str) -> Operation:
        if op_id not in self.ops:
            raise NotFoundError("Operation not found.", {"operation_id": op_id})
        return self.ops[op_id]

    def save(self, op: Operation) -> None:
        self.find(op.id)
        self.ops[op.id] = op


class FakeWorkflows:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.started: list[tuple[str, str, dict[str, Any]]] = []

    def start(self, workflow: str, operation_id: str, payload: dict[str, Any]) -> str:
        if self.fail:
            raise DependencyUnavailableError("The workflow could not be started.", {"workflow": workflow})
        self.started.append((workflow, operation_id, payload))
        return f"arn:aws:states:us-east-1:123456789012:execution:{workflow}:{operation_id}"


class FakeHealthProbes:
    def __init__(self, **checks: str) -> None:
        self.checks = checks

    def check(self) -> dict[str, str]:
        return dict(self.checks)
