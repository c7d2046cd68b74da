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


class FakeTwoFactorStore:
    """mamba.services.two_factor.TwoFactorStore in memory; conditions as in DynamoTwoFactorStore."""

    def __init__(self) -> None:
        from mamba.domain.two_factor import TwoFactorState

        self.states: dict[str, TwoFactorState] = {}
        self.hashes: dict[str, set[str]] = {}

    def add_user(self, user_id: str, email: str, password_hash: str | None = None) -> None:
        from mamba.domain.two_factor import TwoFactorState

        self.states[user_id] = TwoFactorState(user_id=user_id, email=email, password_hash=password_hash)

    def load(self, user_id: str):
        from dataclasses import replace

        if user_id not in self.states:
            raise NotFoundError("User not found.", {"user_id": user_id})
        return replace(self.states[user_id], recovery_codes_left=len(self.hashes.get(user_id, ())))

    def _set(self, user_id: str, **changes: Any) -> None:
        from dataclasses import replace

        self.states[user_id] = replace(self.states[user_id], **changes)

    def start_enrolment(self, user_id: str, pending_secret: str) -> None:
        if self.load(user_id).enabled:
            raise ConflictError("Two-factor authentication is already enabled.", {"reason": "already_enabled"})
        self._set(user_id, pending_secret=pending_secret)

    def confirm(self, user_id: str, pending_secret: str, counter: int, recovery_hashes: list[str], at: str) -> bool:
        state = self.states.get(user_id)
        if state is None or state.enabled or state.pending_secret != pending_secret:
            return False
        self._set(user_id, enabled=True, secret=pending_secret, pending_secret=None, last_counter=counter)
        self.hashes[user_id] = set(recovery_hashes)
        return True

    def advance_counter(self, user_id: str, counter: int) -> bool:
        state = self.states.get(user_id)
        if state is None or not state.enabled or (state.last_counter is not None and counter <= state.last_counter):
            return False
        self._set(user_id, last_counter=counter)
        return True

    def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        state = self.states.get(user_id)
        if state is None or not state.enabled or code_hash not in self.hashes.get(user_id, set()):
            return False
        self.hashes[user_id].discard(code_hash)
        return True

    def disable(self, user_id: str) -> None:
        self.load(user_id)
        self._set(user_id, enabled=False, secret=None, pending_secret=None, last_counter=None)
        self.hashes.pop(user_id, None)


def server_entity(
    uuid: str,
    node_id: str = "n1",
    status: str = "offline",
    *,
    tenant_id: str = "tn_a",
    ip: str = "127.0.0.1",
    created_at: str = "2026-12-01T10:00:00Z",
) -> Any:
    """A plain ``mamba.domain.servers.Server`` for service unit tests."""
    from mamba.domain.servers import Limits, Server

    return Server(
        uuid=uuid,
        name=uuid[:8],
        tenant_id=tenant_id,
        node_id=node_id,
        blueprint_id="bp",
        allocation=(ip, 25565),
        docker_image="img",
        startup="run",
        limits=Limits(memory_mb=512, disk_mb=1024),
        status=status,
        created_at=created_at,
        updated_at=created_at,
    )
