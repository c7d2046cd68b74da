"""One fake per port, in memory. tests/contract runs each port's contract class over its fake
and over the real adapter (DynamoDB and S3 on moto, Step Functions on moto, the Wings
simulator over HTTP, the local Stripe), so the fakes keep the adapters' behaviour, errors
included, and a service test on the fakes holds for production (docs/testing.md)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mamba.domain.accounts import AccountPolicy, ClientHints, OneTimeToken, RefreshFamily, RefreshToken, User
from mamba.domain.billing import PriceFacts, SubscriptionFacts
from mamba.domain.errors import (
    BlueprintInUseError,
    CaptchaFailedError,
    ConflictError,
    DependencyUnavailableError,
    NotFoundError,
)
from mamba.domain.operations import Operation
from mamba.domain.pages import Page, PageRequest
from mamba.domain.ratelimit import Limit
from mamba.services.accounts import AccountPorts


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

    def list_all(
        self, page: PageRequest, status: str | None = None, op_type: str | None = None, since: str | None = None
    ) -> Page[Operation]:
        """Newest first; the cursor is the sort key of the last item returned."""
        ordered = sorted(self.ops.values(), key=lambda o: f"{o.created_at}#{o.id}", reverse=True)
        if page.cursor:
            ordered = [o for o in ordered if f"{o.created_at}#{o.id}" < page.cursor]
        matching = [
            o
            for o in ordered
            if (status is None or o.status == status)
            and (op_type is None or o.type == op_type)
            and (since is None or f"{o.created_at}#{o.id}" >= since)
        ]
        items = matching[: page.limit]
        more = len(matching) > page.limit
        return Page(items=items, next_cursor=f"{items[-1].created_at}#{items[-1].id}" if more else None)

    def begin_retry(self, retried: Operation) -> None:
        current = self.find(retried.id)
        if current.status != "failed" or current.attempt != retried.attempt - 1:
            raise ConflictError(
                "The operation is already being retried.", {"operation_id": retried.id, "reason": "already_retried"}
            )
        self.ops[retried.id] = retried


class FakeWorkflows:
    """``SfnWorkflows`` without Step Functions: records each start. As on AWS, the execution
    is named after the operation, so a second start of one operation runs nothing new and
    answers the same ARN; an unknown workflow (no state machine) or ``fail`` is refused."""

    ARN = "arn:aws:states:us-east-1:123456789012"

    def __init__(self, fail: bool = False, prefix: str = "mamba-") -> None:
        from infra.workflows import workflow_names

        self.fail = fail
        self.prefix = prefix
        self.known = set(workflow_names())
        # (workflow, execution name, payload): the name is the operation id on a first attempt
        self.started: list[tuple[str, str, dict[str, Any]]] = []
        self.failures: dict[tuple[str, str], dict[str, str]] = {}
        self.statuses: dict[tuple[str, str], str] = {}  # (workflow, execution name) -> a status to report

    def start(self, workflow: str, operation_id: str, payload: dict[str, Any], attempt: int = 1) -> str:
        from mamba.adapters.sfn import execution_name, with_correlation_id

        if self.fail or workflow not in self.known:
            raise DependencyUnavailableError(
                "The workflow could not be started; try again shortly.", {"workflow": workflow}
            )
        name = execution_name(operation_id, attempt)
        payload = with_correlation_id(payload, operation_id)
        arn = f"{self.ARN}:execution:{self.prefix}{workflow}:{name}"
        if not any(w == workflow and o == name for w, o, _ in self.started):
            self.started.append((workflow, name, payload))
        return arn

    def status(self, workflow: str, operation_id: str, attempt: int = 1) -> str | None:
        """RUNNING once started (or what ``statuses`` says), FAILED once ``fail_execution``, else None."""
        from mamba.adapters.sfn import execution_name

        name = execution_name(operation_id, attempt)
        if (workflow, name) in self.statuses:
            return self.statuses[(workflow, name)]
        if (workflow, name) in self.failures:
            return "FAILED"
        return "RUNNING" if any(w == workflow and o == name for w, o, _ in self.started) else None

    def fail_execution(
        self, workflow: str, operation_id: str, state: str, error: str, cause: str, attempt: int = 1
    ) -> None:
        """Test helper: the started execution of (operation, attempt) ended failed in ``state``."""
        from mamba.adapters.sfn import execution_name

        self.failures[(workflow, execution_name(operation_id, attempt))] = {
            "state": state,
            "error": error,
            "cause": cause,
        }

    def failure(self, workflow: str, operation_id: str, attempt: int = 1) -> dict[str, str] | None:
        from mamba.adapters.sfn import execution_name

        found = self.failures.get((workflow, execution_name(operation_id, attempt)))
        return dict(found) if found else None

    @property
    def runs(self) -> list[tuple[str, dict[str, Any]]]:
        """(workflow, payload) of every execution started, in order."""
        return [(workflow, payload) for workflow, _, payload in self.started]

    def names(self) -> list[str]:
        return [workflow for workflow, _, _ in self.started]


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


# --- paging ----------------------------------------------------------------------------------


def _page(items: list[Any], page: Any, scope: str) -> Any:
    """One page of ``items`` (already in the adapter's order). The cursor is opaque to callers,
    as the adapters' signed cursors are; one minted for another listing is refused the same way."""
    from mamba.domain.errors import ValidationError
    from mamba.domain.pages import Page

    start = 0
    if page.cursor:
        prefix, _, offset = page.cursor.rpartition(":")
        if prefix != f"fake:{scope}" or not offset.isdigit():
            raise ValidationError("The cursor is not valid.", {"fields": [{"field": "cursor", "type": "cursor"}]})
        start = int(offset)
    chunk = items[start : start + page.limit]
    more = start + page.limit < len(items)
    return Page(items=chunk, next_cursor=f"fake:{scope}:{start + page.limit}" if more else None)


# --- servers, nodes, allocations, placement ---------------------------------------------------


class FakeServerRepository:
    """``DynamoServerRepository`` in memory: servers by uuid, and each server's activity log."""

    def __init__(self) -> None:
        self.servers: dict[str, Any] = {}
        self.activity_log: dict[str, dict[tuple[str, str], Any]] = {}

    def add(self, server: Any) -> None:
        if server.uuid in self.servers:
            raise ConflictError("A server with this uuid exists.", {"uuid": server.uuid})
        self.servers[server.uuid] = server

    def get(self, server_uuid: str) -> Any:
        if server_uuid not in self.servers:
            raise NotFoundError("Server not found.", {"uuid": server_uuid})
        return self.servers[server_uuid]

    def save(self, server: Any) -> None:
        self.get(server.uuid)
        self.servers[server.uuid] = server

    def delete(self, server_uuid: str) -> None:
        self.servers.pop(server_uuid, None)

    def on_node(self, node_id: str) -> list[Any]:
        return sorted((s for s in self.servers.values() if s.node_id == node_id), key=lambda s: s.uuid)

    def page_on_node(self, node_id: str, page: int, per_page: int) -> tuple[list[Any], int]:
        servers = self.on_node(node_id)
        start = (page - 1) * per_page
        return servers[start : start + per_page], len(servers)

    def of_tenant(self, tenant_id: str) -> list[Any]:
        mine = (s for s in self.servers.values() if s.tenant_id == tenant_id)
        return sorted(mine, key=lambda s: (s.created_at, s.uuid))

    def page_of_tenant(self, tenant_id: str, page: Any, status: str | None = None) -> Any:
        mine = [s for s in self.of_tenant(tenant_id) if status is None or s.status == status]
        return _page(mine, page, f"servers:{tenant_id}:{status or ''}")

    def add_activity(self, entries: list[Any]) -> int:
        import json
        import uuid as uuidlib
        from dataclasses import replace

        for entry in entries:
            # The same content id as the adapter's, so a re-sent batch overwrites itself.
            raw = json.dumps([entry.event, entry.user_id, entry.ip, entry.metadata], sort_keys=True)
            entry_id = entry.entry_id or str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, raw))
            log = self.activity_log.setdefault(entry.server_uuid, {})
            log[(entry.timestamp, entry_id)] = replace(entry, entry_id=entry_id)
        return len(entries)

    def activity(self, server_uuid: str, limit: int = 100) -> list[Any]:
        log = self.activity_log.get(server_uuid, {})
        return [log[key] for key in sorted(log, reverse=True)][:limit]


class FakeFleetReader:
    """``DynamoFleetReader`` in memory over a FakeServerRepository: the node's servers in uuid
    order, a tenant's or everyone's in creation order, names from the node repository and
    ``tenant_names``. It filters before paging (the adapter pages, then filters), so its pages
    are full where the adapter's may be short; walking every page gives the same servers."""

    def __init__(self, servers: Any, nodes: Any, tenant_names: dict[str, str] | None = None) -> None:
        self.servers_repo = servers
        self.nodes = nodes
        self.tenant_names = tenant_names if tenant_names is not None else {}

    def servers(self, wanted: Any, page: Any) -> Any:
        from mamba.domain.fleet import FleetServer
        from mamba.domain.pages import Page

        every = list(self.servers_repo.servers.values())
        if wanted.node_id:
            ordered = sorted(every, key=lambda s: s.uuid)
        else:
            ordered = sorted(every, key=lambda s: (s.created_at, s.uuid))
        scope = f"admin.servers:{wanted.node_id or ''}:{wanted.tenant_id or ''}:{wanted.status or ''}:{wanted.q or ''}"
        found = _page([s for s in ordered if wanted.matches(s)], page, scope)
        names = {n.id: n.name for n in self.nodes.nodes.values()}
        items = [
            FleetServer(server=s, tenant_name=self.tenant_names.get(s.tenant_id), node_name=names.get(s.node_id))
            for s in found.items
        ]
        return Page(items=items, next_cursor=found.next_cursor)

    def server(self, server_uuid: str) -> Any:
        from mamba.domain.fleet import FleetServer

        s = self.servers_repo.get(server_uuid)  # NotFoundError
        node = self.nodes.nodes.get(s.node_id)
        return FleetServer(
            server=s, tenant_name=self.tenant_names.get(s.tenant_id), node_name=node.name if node else None
        )


class FakeNodeRepository:
    """``DynamoNodeRepository`` in memory; tokens are kept in clear (the adapter encrypts them)."""

    def __init__(self, page_cap: int | None = None) -> None:
        self.nodes: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}
        self.allocations: FakeAllocationRepository | None = None  # set by FakeAllocationRepository
        # DynamoDB answers at most 1 MB per Query, so a page may hold fewer nodes than asked
        # for while a cursor leads on; ``page_cap`` makes that happen at a few nodes.
        self.page_cap = page_cap

    def add(self, node: Any, token: str) -> None:
        if node.id in self.nodes or any(n.token_id == node.token_id for n in self.nodes.values()):
            raise ConflictError("The node or its token id already exists.", {"node_id": node.id})
        self.nodes[node.id] = node
        self.tokens[node.id] = token

    def get(self, node_id: str) -> Any:
        if node_id not in self.nodes:
            raise NotFoundError("Node not found.", {"node_id": node_id})
        return self.nodes[node_id]

    def list(self, limit: int = 50, cursor: str | None = None) -> tuple[list[Any], str | None]:
        from mamba.domain.pages import PageRequest

        ordered = sorted(self.nodes.values(), key=lambda n: (n.created_at, n.id))
        found = _page(ordered, PageRequest(min(limit, self.page_cap or limit), cursor), "admin.nodes")
        return found.items, found.next_cursor

    def update(self, node: Any) -> None:
        from dataclasses import replace

        current = self.get(node.id)
        # The token id and creation time are not editable here (see rotate_token).
        self.nodes[node.id] = replace(node, token_id=current.token_id, created_at=current.created_at)

    def delete(self, node_id: str) -> None:
        self.get(node_id)
        mine = [a for a in (self.allocations.rows.values() if self.allocations else ()) if a.node_id == node_id]
        held = [a for a in mine if a.server_id]
        if held:
            raise ConflictError(
                "The node has allocations assigned to servers.",
                {"node_id": node_id, "assigned": [f"{a.ip}:{a.port}" for a in held][:20]},
            )
        del self.nodes[node_id]
        self.tokens.pop(node_id, None)
        for allocation in mine:
            assert self.allocations is not None
            del self.allocations.rows[(allocation.node_id, allocation.ip, allocation.port)]

    def find_by_token_id(self, token_id: str) -> Any:
        if not token_id or "." in token_id:
            return None
        return next((n for n in self.nodes.values() if n.token_id == token_id), None)

    def token(self, node: Any) -> str:
        self.get(node.id)
        return self.tokens[node.id]

    def rotate_token(self, node_id: str, token_id: str, token: str, now: str) -> Any:
        from dataclasses import replace

        current = self.get(node_id)
        if any(n.token_id == token_id for n in self.nodes.values()):
            raise ConflictError("The node's token changed meanwhile; try again.", {"node_id": node_id})
        self.nodes[node_id] = replace(current, token_id=token_id, updated_at=now)
        self.tokens[node_id] = token
        return self.nodes[node_id]


class FakeAllocationRepository:
    """``DynamoAllocationRepository`` in memory, by (node, ip, port)."""

    def __init__(self, nodes: FakeNodeRepository | None = None) -> None:
        self.rows: dict[tuple[str, str, int], Any] = {}
        if nodes is not None:
            nodes.allocations = self

    def add_many(self, allocations: list[Any]) -> Any:
        from mamba.domain.nodes import AllocationResult

        result = AllocationResult()
        for allocation in allocations:
            key = (allocation.node_id, allocation.ip, allocation.port)
            if key in self.rows:
                result.conflicts.append(f"{allocation.ip}:{allocation.port}")
            else:
                self.rows[key] = allocation
                result.created.append(allocation)
        return result

    def get(self, node_id: str, ip: str, port: int) -> Any:
        if (node_id, ip, port) not in self.rows:
            raise NotFoundError("Allocation not found.", {"allocation": f"{ip}:{port}"})
        return self.rows[(node_id, ip, port)]

    def _of_node(self, node_id: str) -> list[Any]:
        # The adapter's sort key is ip then the zero-padded port: string order of the ip.
        return sorted((a for a in self.rows.values() if a.node_id == node_id), key=lambda a: (a.ip, a.port))

    def list(self, node_id: str, limit: int = 50, cursor: str | None = None) -> tuple[list[Any], str | None]:
        from mamba.domain.pages import PageRequest

        found = _page(self._of_node(node_id), PageRequest(limit, cursor), f"allocations:{node_id}")
        return found.items, found.next_cursor

    def delete(self, node_id: str, ip: str, port: int) -> None:
        current = self.get(node_id, ip, port)
        if current.server_id:
            raise ConflictError(
                "The allocation is assigned to a server.",
                {"allocation": f"{ip}:{port}", "server_id": current.server_id},
            )
        del self.rows[(node_id, ip, port)]

    def assign(self, node_id: str, ip: str, port: int, server_id: str) -> None:
        from dataclasses import replace

        current = self.get(node_id, ip, port)
        if current.server_id:
            raise ConflictError("The allocation is already assigned.", {"allocation": f"{ip}:{port}"})
        self.rows[(node_id, ip, port)] = replace(current, server_id=server_id)

    def release(self, node_id: str, ip: str, port: int, server_id: str) -> None:
        from dataclasses import replace

        current = self.rows.get((node_id, ip, port))
        if current is not None and current.server_id == server_id:
            self.rows[(node_id, ip, port)] = replace(current, server_id=None)

    def set_notes(self, node_id: str, ip: str, port: int, server_id: str, notes: str | None) -> Any:
        from dataclasses import replace

        current = self.rows.get((node_id, ip, port))
        if current is None or current.server_id != server_id:
            raise NotFoundError("Allocation not found.", {"allocation": f"{ip}:{port}"})
        self.rows[(node_id, ip, port)] = replace(current, notes=notes or None)
        return self.rows[(node_id, ip, port)]


@dataclass(frozen=True)
class FakeGuard:
    """What ``FakePlacementStore.guard`` read: the tenant's version before the quota check."""

    version: int = 0


class FakePlacementStore:
    """``DynamoPlacementStore`` over the fake node, allocation and server repositories: the
    reservation checks the guard version, then the allocation, then the uuid, and writes
    all three or nothing (as the adapter's transaction)."""

    def __init__(
        self,
        nodes: FakeNodeRepository | None = None,
        allocations: FakeAllocationRepository | None = None,
        servers: FakeServerRepository | None = None,
        blueprints: FakeBlueprintRepository | None = None,
    ) -> None:
        self.nodes = nodes or FakeNodeRepository()
        self.allocations = allocations or FakeAllocationRepository(self.nodes)
        self.servers = servers or FakeServerRepository()
        # With blueprints, a reservation checks the blueprint exists and counts the server in its
        # usage, as the adapter's transaction does (without, blueprints are not looked at).
        self.blueprints = blueprints
        self.versions: dict[str, int] = {}
        self.plans: dict[str, str] = {}  # tenant id -> plan_quotas JSON
        # Raised by the next ``reserve`` calls, in order: another request winning a race
        # (TenantServersChangedError, AllocationTakenError) between the read and the write.
        self.races: list[Exception] = []
        self.unreachable: dict[str, str] = {}  # node id -> why (offline, circuit_open), as the adapter reads it
        self.builds: dict[str, Any] = {}  # server uuid -> limits a build change reserved
        self.released_builds: list[str] = []  # servers whose build reservation was undone

    def node_loads(self) -> list[Any]:
        from mamba.domain.placement import NodeLoad

        loads = []
        for node in sorted(self.nodes.nodes.values(), key=lambda n: (n.created_at, n.id)):
            held = [s for s in self.servers.on_node(node.id) if s.status != "failed"]
            memory = sum(s.limits.memory_mb for s in held)
            loads.append(
                NodeLoad(
                    node=node,
                    memory_mb=memory,
                    disk_mb=sum(s.limits.disk_mb for s in held),
                    unavailable=self.unreachable.get(node.id),
                )
            )
        return loads

    def free_allocations(self, node_id: str, limit: int = 25) -> list[Any]:
        return [a for a in self.allocations._of_node(node_id) if not a.server_id][:limit]

    def guard(self, tenant_id: str) -> FakeGuard:
        return FakeGuard(self.versions.get(tenant_id, 0))

    def guard_version(self, tenant_id: str) -> int:
        return self.guard(tenant_id).version

    def usage(self, tenant_id: str, guard: Any = None, exclude: str | None = None) -> Any:
        from mamba.domain.quotas import Usage

        mine = [s for s in self.servers.of_tenant(tenant_id) if s.uuid != exclude]
        held = [s for s in mine if s.status != "failed"]
        builds = [self.builds.get(s.uuid, s.limits) for s in held]
        return Usage(
            servers=len(mine),
            memory_mb=sum(max(b.memory_mb, s.limits.memory_mb) for b, s in zip(builds, held, strict=True)),
            disk_mb=sum(max(b.disk_mb, s.limits.disk_mb) for b, s in zip(builds, held, strict=True)),
        )

    def reserve_build(self, server: Any, guard: Any) -> None:
        from mamba.domain.errors import TenantServersChangedError

        if self.races:
            raise self.races.pop(0)
        if self.versions.get(server.tenant_id, 0) != guard.version:
            raise TenantServersChangedError("Another server of this tenant changed meanwhile.")
        self.versions[server.tenant_id] = guard.version + 1
        self.builds[server.uuid] = server.limits  # counted until the server's record shows them

    def release_build(self, server: Any) -> None:
        if self.builds.get(server.uuid) == server.limits:
            del self.builds[server.uuid]
            self.released_builds.append(server.uuid)

    def reserve(self, server: Any, guard: Any) -> None:
        from mamba.domain.errors import AllocationTakenError, TenantServersChangedError

        if self.races:
            raise self.races.pop(0)
        version = guard if isinstance(guard, int) else guard.version
        ip, port = server.allocation
        allocation = self.allocations.rows.get((server.node_id, ip, port))
        if self.versions.get(server.tenant_id, 0) != version:
            raise TenantServersChangedError("Another server of this tenant was created meanwhile.")
        if allocation is None or allocation.server_id:
            raise AllocationTakenError("The allocation was taken meanwhile.", {"allocation": f"{ip}:{port}"})
        for extra_ip, extra_port in server.additional_allocations:
            extra = self.allocations.rows.get((server.node_id, extra_ip, extra_port))
            if extra is None or extra.server_id:
                raise AllocationTakenError(
                    "The allocation was taken meanwhile.", {"allocation": f"{extra_ip}:{extra_port}"}
                )
        if self.blueprints is not None:
            self.blueprints.get(server.blueprint_id)  # NotFoundError, before anything is written
        self.servers.add(server)  # ConflictError for a known uuid, before anything else is written
        self.versions[server.tenant_id] = version + 1
        for held_ip, held_port in server.allocations:
            self.allocations.assign(server.node_id, held_ip, held_port, server.uuid)
        if self.blueprints is not None:
            counts = self.blueprints.servers
            counts[server.blueprint_id] = counts.get(server.blueprint_id, 0) + 1

    def rearm(self, server: Any, previous: Any, guard: Any) -> None:
        """As the adapter's transaction: the guard version, the allocation (free or the server's
        own), the server still failed; then the ports of ``previous`` it no longer uses are freed."""
        from dataclasses import replace

        from mamba.domain.errors import AllocationTakenError, ConflictError, TenantServersChangedError

        if self.races:
            raise self.races.pop(0)
        ip, port = server.allocation
        allocation = self.allocations.rows.get((server.node_id, ip, port))
        stored = self.servers.servers.get(server.uuid)
        if stored is None or stored.status != "failed":
            raise ConflictError("The server is no longer failed.", {"server_id": server.uuid})
        if self.versions.get(server.tenant_id, 0) != guard.version:
            raise TenantServersChangedError("Another server of this tenant was created meanwhile.")
        if allocation is None or allocation.server_id not in (None, server.uuid):
            raise AllocationTakenError("The allocation was taken meanwhile.", {"allocation": f"{ip}:{port}"})
        held = [
            (old_ip, old_port)
            for old_ip, old_port in previous.allocations
            if (row := self.allocations.rows.get((previous.node_id, old_ip, old_port)))
            and row.server_id == previous.uuid
        ]
        if previous.node_id != server.node_id and held:
            from mamba.domain.placement import held_elsewhere

            raise held_elsewhere(previous.uuid, previous.node_id)
        self.versions[server.tenant_id] = guard.version + 1
        for old_ip, old_port in previous.allocations:
            old = self.allocations.rows.get((previous.node_id, old_ip, old_port))
            if (old_ip, old_port) not in server.allocations and old is not None and old.server_id == previous.uuid:
                self.allocations.rows[(previous.node_id, old_ip, old_port)] = replace(old, server_id=None)
        self.allocations.rows[(server.node_id, ip, port)] = replace(allocation, server_id=server.uuid)
        self.servers.servers[server.uuid] = server

    def unreserve(self, server: Any) -> None:
        stored = self.servers.servers.get(server.uuid)
        rows = [self.allocations.rows.get((server.node_id, ip, port)) for ip, port in server.allocations]
        # Every condition or nothing, as the adapter's transaction.
        if stored is None or stored.status != "provisioning":
            return
        if any(row is None or row.server_id != server.uuid for row in rows):
            return
        self.servers.delete(server.uuid)
        for ip, port in server.allocations:
            self.allocations.release(server.node_id, ip, port, server.uuid)
        if self.blueprints is not None:
            counts = self.blueprints.servers
            counts[server.blueprint_id] = counts.get(server.blueprint_id, 0) - 1

    def plan_quotas(self, tenant_id: str) -> str | None:
        return self.plans.get(tenant_id)


class FakeHostResolver:
    """``SocketHostResolver`` from a table: each name's addresses (an address literal
    resolves to itself, an unknown name to nothing), and every question asked."""

    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = dict(answers or {})
        self.asked: list[tuple[str, int]] = []

    def resolve(self, host: str, port: int) -> list[str]:
        import ipaddress

        self.asked.append((host, port))
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            return sorted(set(self.answers.get(host, [])))


class FakeWebhookRepository:
    """``DynamoWebhookRepository`` in memory: webhooks per tenant (limit kept), secrets in the
    clear, deliveries with their due time, and the attempt log newest first."""

    def __init__(self) -> None:
        from mamba.domain.webhooks import Attempt, Delivery, Webhook

        self.webhooks: dict[tuple[str, str], Webhook] = {}
        self.secrets: dict[str, str] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.log: list[Attempt] = []

    def _missing(self, webhook_id: str) -> NotFoundError:
        return NotFoundError("Webhook not found.", {"webhook_id": webhook_id})

    def of_tenant(self, tenant_id: str) -> list[Any]:
        return sorted((w for (t, _), w in self.webhooks.items() if t == tenant_id), key=lambda w: (w.created_at, w.id))

    def get(self, tenant_id: str, webhook_id: str) -> Any:
        found = self.webhooks.get((tenant_id, webhook_id))
        if found is None:
            raise self._missing(webhook_id)
        return found

    def secret(self, webhook: Any) -> str:
        self.get(webhook.tenant_id, webhook.id)
        return self.secrets[webhook.id]

    def add(self, webhook: Any, secret: str, limit: int) -> None:
        from mamba.domain.errors import WebhookLimitError

        if len(self.of_tenant(webhook.tenant_id)) >= limit:
            raise WebhookLimitError(f"A tenant can have at most {limit} webhooks; delete one first.", {"limit": limit})
        self.webhooks[(webhook.tenant_id, webhook.id)] = webhook
        self.secrets[webhook.id] = secret

    def save(self, webhook: Any) -> None:
        current = self.get(webhook.tenant_id, webhook.id)
        self.webhooks[(webhook.tenant_id, webhook.id)] = replace(webhook, secret_hint=current.secret_hint)

    def set_secret(self, webhook: Any, secret: str) -> None:
        current = self.get(webhook.tenant_id, webhook.id)
        self.webhooks[(webhook.tenant_id, webhook.id)] = replace(
            current, secret_hint=webhook.secret_hint, updated_at=webhook.updated_at
        )
        self.secrets[webhook.id] = secret

    def delete(self, tenant_id: str, webhook_id: str) -> None:
        if self.webhooks.pop((tenant_id, webhook_id), None) is None:
            raise self._missing(webhook_id)

    def mark_failing(self, webhook: Any, since: int | None) -> None:
        key = (webhook.tenant_id, webhook.id)
        if key in self.webhooks:
            self.webhooks[key] = replace(self.webhooks[key], failing_since=since)

    def disable(self, webhook: Any, reason: str, now: str) -> bool:
        key = (webhook.tenant_id, webhook.id)
        current = self.webhooks.get(key)
        if current is None or not current.enabled:
            return False
        self.webhooks[key] = replace(
            current, enabled=False, disabled_reason=reason, updated_at=now, failing_since=webhook.failing_since
        )
        return True

    def add_delivery(self, delivery: Any) -> bool:
        if delivery.id in self.deliveries:
            return False
        due = delivery.next_attempt_at if delivery.next_attempt_at is not None else delivery.created_at
        self.deliveries[delivery.id] = replace(delivery, next_attempt_at=due)
        return True

    def due(self, now: int, limit: int) -> list[Any]:
        found = [d for d in self.deliveries.values() if d.status == "pending" and d.next_attempt_at is not None]
        found = [d for d in found if d.next_attempt_at <= now]
        return sorted(found, key=lambda d: (d.next_attempt_at, d.id))[:limit]

    def claim(self, delivery: Any, lease_until: int) -> bool:
        current = self.deliveries.get(delivery.id)
        if current is None or current.status != "pending" or current.attempts != delivery.attempts:
            return False
        self.deliveries[delivery.id] = replace(current, attempts=delivery.attempts + 1, next_attempt_at=lease_until)
        return True

    def finish(self, delivery: Any) -> None:
        if delivery.id in self.deliveries:
            keep = delivery.next_attempt_at if delivery.status == "pending" else None
            self.deliveries[delivery.id] = replace(delivery, next_attempt_at=keep)

    def redeliver(self, tenant_id: str, webhook_id: str, delivery_id: str, now: int) -> Any:
        found = self.deliveries.get(delivery_id)
        if found is None or found.tenant_id != tenant_id or found.webhook_id != webhook_id:
            raise NotFoundError("Delivery not found.", {"delivery_id": delivery_id})
        if found.status == "pending":
            raise ConflictError("This delivery is still waiting for its next attempt.", {"delivery_id": delivery_id})
        again = replace(found, status="pending", attempts=0, created_at=now, next_attempt_at=now)
        self.deliveries[delivery_id] = again
        return again

    def add_attempt(self, attempt: Any) -> None:
        self.log.append(attempt)

    def attempts(self, tenant_id: str, webhook_id: str, page: PageRequest) -> Page[Any]:
        mine = [a for a in self.log if a.tenant_id == tenant_id and a.webhook_id == webhook_id]
        mine.sort(key=lambda a: (a.at, a.delivery_id, a.attempt), reverse=True)
        start = int(page.cursor or 0)
        chunk = mine[start : start + page.limit]
        more = start + page.limit < len(mine)
        return Page(items=chunk, next_cursor=str(start + page.limit) if more else None)


class FakeWebhookSender:
    """``HttpWebhookSender`` from a script: each POST gets the next scripted answer (the last
    one repeats), and every request is kept with the addresses it was sent to."""

    def __init__(self, answers: list[Any] | None = None) -> None:
        from mamba.domain.webhooks import Response

        self.answers = list(answers or [Response(status=200, duration_ms=5)])
        self.requests: list[tuple[Any, list[str]]] = []

    def post(self, request: Any, addresses: list[str]) -> Any:
        self.requests.append((request, list(addresses)))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class FakeNodeHealthStore:
    """``DynamoNodeHealthStore`` in memory: each node's health, and its events newest first."""

    def __init__(self) -> None:
        self.health: dict[str, Any] = {}
        self.log: list[Any] = []  # every event, in the order added

    def get(self, node_id: str) -> Any:
        return self.health.get(node_id)

    def save(self, health: Any) -> None:
        self.health[health.node_id] = health

    def add_event(self, event: Any) -> None:
        self.log.append(event)

    def events(self, node_id: str, limit: int = 50) -> list[Any]:
        mine = [e for e in self.log if e.node_id == node_id]
        return sorted(mine, key=lambda e: e.at, reverse=True)[:limit]

    def health_of(self, node_ids: list[str]) -> dict[str, Any]:
        return {n: self.health[n] for n in dict.fromkeys(node_ids) if n in self.health}


class FakeServerLocks:
    """``DynamoServerLocks`` in memory: one lifecycle operation per server, until it expires."""

    def __init__(self) -> None:
        self.locks: dict[str, tuple[str, str, int]] = {}  # uuid -> (operation id, type, expires at)

    def acquire(
        self, server_uuid: str, operation_id: str, operation_type: str, *, now: str, now_epoch: int, seconds: int
    ) -> None:
        held = self.locks.get(server_uuid)
        if held is not None and held[2] >= now_epoch:
            raise ConflictError(
                "Another operation is running on this server; wait for it to finish.",
                {"uuid": server_uuid, "operation_id": held[0], "operation_type": held[1]},
            )
        self.locks[server_uuid] = (operation_id, operation_type, now_epoch + seconds)

    def holder(self, server_uuid: str) -> tuple[str, str] | None:
        held = self.locks.get(server_uuid)
        return (held[0], held[1]) if held is not None else None

    def release(self, server_uuid: str, operation_id: str) -> None:
        if self.holder(server_uuid) is not None and self.locks[server_uuid][0] == operation_id:
            del self.locks[server_uuid]


class FakeServerNetworkStore:
    """``DynamoServerNetworkStore`` over a FakeServerRepository and a FakeAllocationRepository:
    each change applies only if the server still holds the ports the caller read."""

    def __init__(self, servers: FakeServerRepository, allocations: FakeAllocationRepository) -> None:
        self.servers = servers
        self.allocations = allocations

    def _current(self, server: Any) -> Any:
        current = self.servers.servers.get(server.uuid)
        if (
            current is None
            or current.status == "deleting"
            or (current.allocation, current.additional_allocations)
            != (server.allocation, server.additional_allocations)
        ):
            raise ConflictError("The server's ports changed meanwhile; try again.", {"uuid": server.uuid})
        return current

    def add_allocation(self, server: Any, ip: str, port: int, now: str) -> None:
        current = self._current(server)
        record = self.allocations.rows.get((server.node_id, ip, port))
        if record is None or record.server_id is not None:
            raise ConflictError("The allocation was taken meanwhile.", {"allocation": f"{ip}:{port}"})
        self.allocations.rows[(server.node_id, ip, port)] = replace(record, server_id=server.uuid)
        extra = (*current.additional_allocations, (ip, port))
        self.servers.servers[server.uuid] = replace(current, additional_allocations=extra, updated_at=now)

    def remove_allocation(self, server: Any, ip: str, port: int, now: str) -> None:
        current = self._current(server)
        record = self.allocations.rows.get((server.node_id, ip, port))
        if record is None or record.server_id != server.uuid:
            raise ConflictError("The server's ports changed meanwhile; try again.", {"uuid": server.uuid})
        self.allocations.rows[(server.node_id, ip, port)] = replace(record, server_id=None, notes=None)
        extra = tuple(a for a in current.additional_allocations if a != (ip, port))
        self.servers.servers[server.uuid] = replace(current, additional_allocations=extra, updated_at=now)

    def set_primary(self, server: Any, ip: str, port: int, now: str) -> None:
        current = self._current(server)
        others = tuple(a for a in current.allocations if a != (ip, port))
        self.servers.servers[server.uuid] = replace(
            current, allocation=(ip, port), additional_allocations=others, updated_at=now
        )

    def set_image(self, server: Any, image: str, now: str) -> None:
        current = self.servers.servers.get(server.uuid)
        if current is None or current.status == "deleting":
            raise ConflictError("The server's ports changed meanwhile; try again.", {"uuid": server.uuid})
        self.servers.servers[server.uuid] = replace(current, docker_image=image, updated_at=now)


class FakeServerLifecycleStore:
    """``DynamoServerLifecycleStore`` over a FakeServerRepository: conditional status, build and
    profile writes, who suspended a server, and the reconcile schedule's observations.
    ``unavailable`` names servers whose observation write fails as DynamoDB would."""

    def __init__(self, servers: FakeServerRepository | None = None, locks: FakeServerLocks | None = None) -> None:
        self.servers = servers or FakeServerRepository()
        self.locks = locks or FakeServerLocks()
        self.suspensions: dict[str, str] = {}
        self.observed: dict[str, tuple[dict[str, Any], str]] = {}
        self.rows: list[Any] = []  # every observation written, in order
        self.unavailable: set[str] = set()

    def _expect(self, server_uuid: str, expected: Any) -> Any:
        expected = list(expected)
        current = self.servers.get(server_uuid)  # NotFoundError when it is gone
        if current.status not in expected:
            raise ConflictError(
                f"The server is {current.status}; this needs it to be {' or '.join(expected)}.",
                {"uuid": server_uuid, "status": current.status},
            )
        return current

    def set_status(self, server_uuid: str, status: str, expected: Any, *, now: str, reason: str | None = None) -> None:
        current = self._expect(server_uuid, expected)
        self.servers.save(replace(current, status=status, updated_at=now, status_reason=reason or None))

    def set_suspension(self, server_uuid: str, status: str, expected: Any, *, by: str | None, now: str) -> None:
        current = self._expect(server_uuid, expected)
        self.servers.save(replace(current, status=status, updated_at=now, status_reason=None))
        if by is None:
            self.suspensions.pop(server_uuid, None)
        else:
            self.suspensions[server_uuid] = by

    def suspended_by(self, server_uuid: str) -> str | None:
        return self.suspensions.get(server_uuid)

    def set_build(
        self, server_uuid: str, limits: Any, expected: Any, *, now: str, environment: dict[str, Any] | None = None
    ) -> None:
        current = self._expect(server_uuid, expected)
        changes: dict[str, Any] = {"limits": limits, "updated_at": now}
        if environment is not None:
            changes["environment"] = environment
        self.servers.save(replace(current, **changes))

    def set_profile(
        self,
        server_uuid: str,
        *,
        name: str | None,
        description: str | None,
        now: str,
        feature_limits: Any = None,
        startup: str | None = None,
    ) -> None:
        current = self.servers.get(server_uuid)
        changes: dict[str, Any] = {"updated_at": now}
        if name is not None:
            changes["name"] = name
        if description is not None:
            changes["description"] = description
        if feature_limits is not None:
            changes["feature_limits"] = feature_limits
        if startup is not None:
            changes["startup"] = startup
        self.servers.save(replace(current, **changes))

    def remove(self, server_uuid: str) -> int:
        activity = len(self.servers.activity_log.pop(server_uuid, {}))
        self.locks.locks.pop(server_uuid, None)
        self.suspensions.pop(server_uuid, None)
        self.observed.pop(server_uuid, None)
        self.servers.delete(server_uuid)
        return activity + 3

    def record_observations(self, rows: list[Any], *, now: str) -> int:
        if any(row.server_uuid in self.unavailable for row in rows):
            raise DependencyUnavailableError("The server's observation could not be written; try again.")
        written = 0
        for row in rows:
            current = self.servers.servers.get(row.server_uuid)
            if current is None or current.status != row.expected_status:
                continue  # changed (or gone) under the batch: this one is not written
            if row.new_status is not None and row.new_status != row.expected_status:
                self.servers.save(replace(current, status=row.new_status, updated_at=now))
            self.observed[row.server_uuid] = (dict(row.utilization), now)
            self.rows.append(row)
            written += 1
        return written

    def utilization(self, server_uuid: str) -> tuple[dict[str, Any] | None, str | None]:
        self.servers.get(server_uuid)
        found = self.observed.get(server_uuid)
        return (dict(found[0]), found[1]) if found else (None, None)


class FakeBlueprintRepository:
    """``DynamoBlueprintRepository`` in memory."""

    def __init__(self, *blueprints: Any) -> None:
        self.blueprints: dict[str, Any] = {b.id: b for b in blueprints}
        self.servers: dict[str, int] = {}  # blueprint id -> servers using it (the reservation's counter)

    def add(self, blueprint: Any) -> None:
        if blueprint.id in self.blueprints:
            raise ConflictError("The blueprint already exists.", {"blueprint_id": blueprint.id})
        self.blueprints[blueprint.id] = blueprint

    def get(self, blueprint_id: str) -> Any:
        if blueprint_id not in self.blueprints:
            raise NotFoundError("Blueprint not found.", {"blueprint_id": blueprint_id})
        return self.blueprints[blueprint_id]

    def list(self, limit: int = 50, cursor: str | None = None) -> tuple[list[Any], str | None]:
        ordered = sorted(self.blueprints.values(), key=lambda b: (b.created_at, b.id))
        found = _page(ordered, PageRequest(limit, cursor), "admin.blueprints")
        return found.items, found.next_cursor

    def save(self, blueprint: Any) -> None:
        self.get(blueprint.id)
        self.blueprints[blueprint.id] = blueprint

    def usage(self, blueprint_ids: Any) -> dict[str, int]:
        return {b: self.servers.get(b, 0) for b in blueprint_ids}

    def delete(self, blueprint_id: str) -> None:
        self.get(blueprint_id)
        if self.servers.get(blueprint_id, 0) > 0:
            servers = self.servers[blueprint_id]
            raise BlueprintInUseError(
                f"{servers} server(s) use this blueprint; delete them first.",
                {"blueprint_id": blueprint_id, "servers": servers},
            )
        del self.blueprints[blueprint_id]


# --- backups ---------------------------------------------------------------------------------


class FakeBackupRepository:
    """``DynamoBackupRepository`` in memory: backups, each server's running-backup lock, and
    each tenant's storage counter and retention choice."""

    def __init__(self) -> None:
        self.backups: dict[str, Any] = {}
        self.locks: dict[str, str] = {}  # server uuid -> backup uuid
        self.usage_bytes: dict[str, int] = {}
        self.rotate: dict[str, bool] = {}

    def add_running(self, backup: Any) -> None:
        if backup.server_uuid in self.locks:
            raise ConflictError("A backup of this server is already running.", {"server_id": backup.server_uuid})
        if backup.uuid in self.backups:
            raise ConflictError("A backup with this uuid exists.", {"uuid": backup.uuid})
        self.backups[backup.uuid] = backup
        self.locks[backup.server_uuid] = backup.uuid

    def running_lock(self, server_uuid: str) -> str | None:
        return self.locks.get(server_uuid)

    def release_lock(self, server_uuid: str, backup_uuid: str) -> None:
        if self.locks.get(server_uuid) == backup_uuid:
            del self.locks[server_uuid]

    def get(self, backup_uuid: str) -> Any:
        if backup_uuid not in self.backups:
            raise NotFoundError("Backup not found.", {"uuid": backup_uuid})
        return self.backups[backup_uuid]

    def save(self, backup: Any, expected_status: str | None = None) -> None:
        current = self.backups.get(backup.uuid)
        if current is None or (expected_status is not None and current.status != expected_status):
            raise ConflictError("The backup changed meanwhile.", {"uuid": backup.uuid})
        self.backups[backup.uuid] = backup

    def set_operation(self, backup_uuid: str, operation_id: str) -> None:
        from dataclasses import replace

        if backup_uuid not in self.backups:
            raise DependencyUnavailableError("The backup could not be saved; try again.")
        self.backups[backup_uuid] = replace(self.backups[backup_uuid], operation_id=operation_id)

    def delete(self, backup_uuid: str) -> None:
        self.backups.pop(backup_uuid, None)

    def of_server(self, server_uuid: str) -> list[Any]:
        mine = (b for b in self.backups.values() if b.server_uuid == server_uuid)
        return sorted(mine, key=lambda b: (b.created_at, b.uuid))

    def of_tenant(self, tenant_id: str) -> list[Any]:
        mine = (b for b in self.backups.values() if b.tenant_id == tenant_id)
        return sorted(mine, key=lambda b: (b.created_at, b.uuid))

    def usage(self, tenant_id: str) -> int:
        return self.usage_bytes.get(tenant_id, 0)

    def rotation(self, tenant_id: str) -> bool:
        return self.rotate.get(tenant_id, False)

    def set_rotation(self, tenant_id: str, rotate: bool) -> None:
        self.rotate[tenant_id] = rotate
        self.usage_bytes.setdefault(tenant_id, 0)

    def count(self, backup: Any, counted: bool) -> bool:
        from dataclasses import replace

        current = self.backups.get(backup.uuid)
        if current is None or current.counted == counted:
            return False
        self.backups[backup.uuid] = replace(current, counted=counted)
        delta = backup.size_bytes if counted else -backup.size_bytes
        self.usage_bytes[backup.tenant_id] = self.usage_bytes.get(backup.tenant_id, 0) + delta
        return True

    def set_usage(self, tenant_id: str, usage_bytes: int, now: str) -> None:
        self.usage_bytes[tenant_id] = usage_bytes

    def tenants_with_usage(self) -> list[str]:
        return sorted(self.usage_bytes)


class FakeBackupStore:
    """``S3BackupStore`` in memory: multipart uploads and object sizes. ``put_part`` and
    ``put_object`` stand in for Wings' PUTs through the presigned URLs."""

    def __init__(self, bucket: str = "fake-backups", fail: bool = False) -> None:
        self.bucket = bucket
        self.fail = fail
        self.uploads: dict[str, tuple[str, dict[int, tuple[str, int]]]] = {}  # id -> (key, {n: (etag, size)})
        self.objects: dict[str, int] = {}
        self.deleted: list[str] = []

    def _check(self, what: str) -> None:
        if self.fail:
            message = f"The backup storage could not {what}; try again."
            raise DependencyUnavailableError(message, {"bucket": self.bucket})

    def create_upload(self, key: str) -> str:
        import secrets

        self._check("start the upload")
        upload_id = secrets.token_urlsafe(16)
        self.uploads[upload_id] = (key, {})
        return upload_id

    def part_urls(self, key: str, upload_id: str, parts: int, lifetimes: list[int] | None = None) -> list[str]:
        seconds = lifetimes or [900] * parts
        base = f"https://{self.bucket}.s3.fake/{key}?uploadId={upload_id}"
        return [f"{base}&partNumber={n}&X-Amz-Expires={min(seconds[n - 1], 3600)}" for n in range(1, parts + 1)]

    def put_part(self, key: str, upload_id: str, number: int, body: bytes) -> str:
        import hashlib

        etag = f'"{hashlib.md5(body).hexdigest()}"'  # S3's ETag of a single-part upload
        self.uploads[upload_id][1][number] = (etag, len(body))
        return etag

    def put_object(self, key: str, size: int) -> None:
        self.objects[key] = size

    def listed_parts(self, key: str, upload_id: str) -> list[tuple[int, str]]:
        self._check("list the uploaded parts")
        if upload_id not in self.uploads:
            raise DependencyUnavailableError("The backup storage could not list the uploaded parts; try again.")
        return [(n, etag) for n, (etag, _) in sorted(self.uploads[upload_id][1].items())]

    def complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> bool:
        self._check("complete the upload")
        upload = self.uploads.pop(upload_id, None)
        if upload is None:
            return False
        self.objects[key] = sum(upload[1][n][1] for n, _ in parts)
        return True

    def abort(self, key: str, upload_id: str) -> None:
        self._check("abort the upload")
        self.uploads.pop(upload_id, None)

    def abort_all(self, key: str) -> int:
        self._check("list open uploads")
        mine = [upload_id for upload_id, (k, _) in self.uploads.items() if k == key]
        for upload_id in mine:
            del self.uploads[upload_id]
        return len(mine)

    def size(self, key: str) -> int | None:
        self._check("read the backup's size")
        return self.objects.get(key)

    def delete(self, key: str) -> None:
        self._check("delete the backup")
        self.objects.pop(key, None)
        self.deleted.append(key)

    def download_url(self, key: str, filename: str | None = None) -> str:
        disposition = f"&response-content-disposition=attachment%3B+filename%3D{filename}" if filename else ""
        return f"https://{self.bucket}.s3.fake/{key}?response-content-type=application%2Fx-gzip{disposition}"

    def sizes_under(self, prefix: str) -> dict[str, int]:
        self._check("list the backups")
        return {key: size for key, size in sorted(self.objects.items()) if key.startswith(prefix)}


# --- API keys and the audit log -----------------------------------------------------------------


class FakeApiKeyRepository:
    """``DynamoApiKeyRepository`` in memory (the guard's read of a key by id is ``keys[id]``).
    ``down`` makes recording a key's use fail as DynamoDB would; ``touches`` counts the tries."""

    def __init__(self, down: bool = False) -> None:
        self.keys: dict[str, Any] = {}
        self.down = down
        self.touches = 0

    def add(self, key: Any) -> None:
        if key.id in self.keys:
            raise ConflictError("The API key already exists.", {"key_id": key.id})
        self.keys[key.id] = key

    def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> Any:
        from mamba.domain.api_keys import KeyPage
        from mamba.domain.pages import PageRequest

        mine = sorted((k for k in self.keys.values() if k.user_id == user_id), key=lambda k: (k.created_at, k.id))
        found = _page(mine[::-1], PageRequest(max(1, min(limit, 100)), cursor), f"api_keys:{user_id}")
        return KeyPage(items=found.items, next_cursor=found.next_cursor)

    def revoke(self, user_id: str, key_id: str, at: str) -> Any:
        from dataclasses import replace

        key = self.keys.get(key_id)
        if key is None or key.user_id != user_id:
            raise NotFoundError("API key not found.", {"key_id": key_id})
        self.keys[key_id] = replace(key, revoked_at=key.revoked_at or at)  # the first revocation time stays
        return self.keys[key_id]

    def revoke_all(self, user_id: str, at: str) -> int:
        live = [k for k in self.keys.values() if k.user_id == user_id and k.revoked_at is None]
        for key in live:
            self.revoke(user_id, key.id, at)
        return len(live)

    def give(self, user_id: str, *key_ids: str, created_at: str = "2026-11-25T10:00:00Z") -> None:
        """Live keys of ``user_id`` (for tests that only need some to exist)."""
        from mamba.domain.api_keys import ApiKey

        for key_id in key_ids:
            self.add(ApiKey(key_id, user_id, key_id, ("servers.read",), created_at, "h" * 64, "abcd"))

    def revocations(self) -> list[tuple[str, str, str]]:
        """(user, key, revoked at) of every revoked key, by key id."""
        return sorted((k.user_id, k.id, k.revoked_at) for k in self.keys.values() if k.revoked_at is not None)

    def touch(self, key_id: str, epoch: int, source_ip: str, min_interval: int) -> None:
        from dataclasses import replace

        self.touches += 1
        if self.down:
            raise DependencyUnavailableError("The API key's use could not be recorded; try again.")
        key = self.keys.get(key_id)
        if key is None or (key.last_used_at is not None and key.last_used_at > epoch - min_interval):
            return
        self.keys[key_id] = replace(key, last_used_at=epoch, last_used_ip=source_ip or None)

    def get(self, user_id: str, key_id: str) -> Any:
        key = self.keys.get(key_id)
        if key is None or key.user_id != user_id:
            raise NotFoundError("API key not found.", {"key_id": key_id})
        return key

    def rotate(self, old: Any, new: Any, old_expires_at: int) -> None:
        from dataclasses import replace

        stored = self.keys.get(old.id)
        if (
            stored is None
            or stored.user_id != old.user_id
            or stored.revoked_at is not None
            or stored.replaced_by is not None
            or stored.expires_at != old.expires_at
        ):
            raise ConflictError("The key was revoked, rotated or changed meanwhile.", {"key_id": old.id})
        self.add(new)
        self.keys[old.id] = replace(stored, expires_at=old_expires_at, replaced_by=new.id)


class FakeAuditLog:
    """``DynamoAuditLog`` in memory: append-only partitions (a tenant's, the platform's, the
    security log), listed newest first. ``fail`` makes every write fail as DynamoDB would."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.partitions: dict[str, dict[tuple[str, str], Any]] = {}

    @staticmethod
    def _partition(tenant_id: str | None, security: bool) -> str:
        return "SECURITY" if security else (f"TENANT#{tenant_id}" if tenant_id else "PLATFORM")

    def append(self, entry: Any) -> None:
        if self.fail:
            raise DependencyUnavailableError("The audit entry could not be written.")
        partition = self.partitions.setdefault(self._partition(entry.tenant_id, entry.security), {})
        if (entry.at, entry.id) in partition:
            raise ConflictError("The audit entry already exists.", {"audit_id": entry.id})
        partition[(entry.at, entry.id)] = entry

    @property
    def entries(self) -> list[Any]:
        """Every entry of every partition, oldest first (for assertions)."""
        return sorted((e for p in self.partitions.values() for e in p.values()), key=lambda e: (e.at, e.id))

    def list(self, tenant_id: str | None, filters: Any, limit: int, cursor: str | None, security: bool = False) -> Any:
        from mamba.domain.audit import AuditPage
        from mamba.domain.pages import PageRequest

        partition = self.partitions.get(self._partition(tenant_id, security), {})
        found = [
            partition[key]
            for key in sorted(partition, reverse=True)
            # The adapter's sort-key range: AUDIT#<at>#<id> between AUDIT#<since> and AUDIT#<until>#~
            if (not filters.since or f"{key[0]}#{key[1]}" >= filters.since)
            and (not filters.until or f"{key[0]}#{key[1]}" <= f"{filters.until}#~")
            and (not filters.action or partition[key].action == filters.action)
            and (not filters.actor_id or partition[key].actor_id == filters.actor_id)
            and (not filters.result or partition[key].result == filters.result)
        ]
        page = _page(found, PageRequest(limit, cursor), f"audit:{tenant_id}:{security}")
        return AuditPage(items=page.items, next_cursor=page.next_cursor)


# --- the Wings node agent ----------------------------------------------------------------------


class FakeNodeAgent:
    """``WingsHttpNodeAgent`` and its node, in memory: servers with a state, files and logs.
    Installs and power changes finish at once (the simulator's take a moment). ``down``
    makes every call WingsUnavailableError, as a node that does not answer."""

    POWER = ("start", "stop", "restart", "kill")

    def __init__(self, down: bool = False, node_id: str = "n1", fail_with: Exception | None = None) -> None:
        self.down = down
        self.fail_with = fail_with  # raised by every call instead (a refusal, an open breaker)
        self.node_id = node_id
        self.info: dict[str, Any] = {
            "architecture": "amd64",
            "cpu_count": 2,
            "kernel_version": "6.1",
            "os": "linux",
            "version": "1.11.0",
        }
        self.probes: list[bool] = []  # the ``probe`` flag of each system and list_servers call
        self.servers: dict[str, dict[str, Any]] = {}  # uuid -> {"state", "suspended", "files", "logs"}
        self.calls: list[tuple[str, str]] = []  # (method, server uuid or "")
        self.denied_jtis: dict[str, list[str]] = {}
        self.deauthorized: list[tuple[str, list[str]]] = []  # (user uuid, server uuids)
        self.backups: list[tuple[str, str, str]] = []  # (action, server uuid, backup uuid)
        self.configuration: dict[str, Any] | None = None  # the last config document pushed
        self.transfers: dict[str, dict[str, Any]] = {}
        self.pulls: dict[str, list[dict[str, Any]]] = {}

    def _ask(self, method: str, server_uuid: str = "") -> dict[str, Any] | None:
        from mamba.domain.errors import ValidationError, WingsNotFoundError, WingsUnavailableError
        from mamba.domain.servers import UUID_V4

        if server_uuid and not UUID_V4.match(server_uuid):
            raise ValidationError("A server uuid must be a lowercase UUID v4.", {"uuid": server_uuid})
        if self.fail_with is not None:
            raise self.fail_with
        if self.down:
            raise WingsUnavailableError(
                "The node could not be reached. Try again later; an admin may need to check the node.",
                {"node_id": self.node_id, "reason": "unreachable"},
            )
        self.calls.append((method, server_uuid))
        if not server_uuid:
            return None
        if server_uuid not in self.servers:
            raise WingsNotFoundError("The requested resource does not exist on this instance.", {"uuid": server_uuid})
        return self.servers[server_uuid]

    def _document(self, server_uuid: str) -> dict[str, Any]:
        server = self.servers[server_uuid]
        state = server["state"]
        return {
            "state": state,
            "is_suspended": server["suspended"],
            "utilization": {"state": state, "memory_bytes": 0, "cpu_absolute": 0.0, "disk_bytes": 0, "uptime": 0},
            "configuration": {"uuid": server_uuid},
        }

    def system(self, *, probe: bool = False, extended: bool = False) -> dict[str, Any]:
        self.probes.append(probe)
        self._ask("system")
        return dict(self.info)

    def list_servers(self, *, probe: bool = False) -> list[dict[str, Any]]:
        self.probes.append(probe)
        self._ask("list_servers")
        return [self._document(u) for u in self.servers]

    def get_server(self, server_uuid: str) -> dict[str, Any]:
        self._ask("get_server", server_uuid)
        return self._document(server_uuid)

    def create_server(self, server_uuid: str, *, start_on_completion: bool = False) -> None:
        from mamba.domain.errors import ValidationError
        from mamba.domain.servers import UUID_V4

        if not UUID_V4.match(server_uuid):
            raise ValidationError("A server uuid must be a lowercase UUID v4.", {"uuid": server_uuid})
        self._ask("create_server")
        state = "running" if start_on_completion else "offline"
        self.servers[server_uuid] = {"state": state, "suspended": False, "files": {}, "logs": []}

    def delete_server(self, server_uuid: str) -> None:
        self._ask("delete_server", server_uuid)
        del self.servers[server_uuid]

    def power(self, server_uuid: str, action: str, *, wait_seconds: int | None = None) -> None:
        from mamba.domain.errors import ValidationError

        if action not in self.POWER:
            raise ValidationError("The power action must be start, stop, restart or kill.", {"action": action})
        server = self._ask("power", server_uuid)
        assert server is not None
        server["state"] = "running" if action in ("start", "restart") else "offline"

    def send_commands(self, server_uuid: str, commands: list[str]) -> None:
        from mamba.domain.errors import WingsRejectedError

        server = self._ask("send_commands", server_uuid)
        assert server is not None
        if server["state"] == "offline":
            raise WingsRejectedError("Cannot send commands to a stopped server instance.", {"uuid": server_uuid})
        server["logs"].extend(f"> {command}" for command in commands)

    def install(self, server_uuid: str) -> None:
        self._ask("install", server_uuid)

    def reinstall(self, server_uuid: str) -> None:
        self._ask("reinstall", server_uuid)

    def sync(self, server_uuid: str) -> None:
        self._ask("sync", server_uuid)

    def logs(self, server_uuid: str, size: int = 100) -> list[str]:
        server = self._ask("logs", server_uuid)
        assert server is not None
        return [str(line) for line in server["logs"][-min(max(size, 1), 100) :]]

    def deny_websocket_tokens(self, server_uuid: str, jtis: list[str]) -> None:
        self._ask("deny_websocket_tokens", server_uuid)
        self.denied_jtis.setdefault(server_uuid, []).extend(jtis)

    def update_configuration(self, configuration: dict[str, Any]) -> bool:
        self._ask("update_configuration")
        self.configuration = dict(configuration)
        return True

    def deauthorize_user(self, user_uuid: str, server_uuids: list[str]) -> bool:
        from mamba.domain.errors import ValidationError
        from mamba.domain.servers import UUID_V4

        if not all(UUID_V4.match(u) for u in server_uuids):
            raise ValidationError("A server uuid must be a lowercase UUID v4.", {"uuid": server_uuids})
        self._ask("deauthorize_user")
        self.deauthorized.append((user_uuid, list(server_uuids)))
        return True

    def start_transfer(self, server_uuid: str, *, url: str, token: str, start_on_completion: bool = False) -> None:
        self._ask("start_transfer", server_uuid)
        self.transfers[server_uuid] = {"url": url, "start_on_completion": start_on_completion}

    def cancel_transfer(self, server_uuid: str) -> None:
        self._ask("cancel_transfer", server_uuid)
        self.transfers.pop(server_uuid, None)

    def _path(self, path: str) -> str:
        return "/" + path.strip("/")

    def _files(self, server_uuid: str, method: str) -> dict[str, bytes]:
        server = self._ask(method, server_uuid)
        assert server is not None
        files: dict[str, bytes] = server["files"]
        return files

    def rename(self, server_uuid: str, root: str, files: list[dict[str, str]]) -> None:
        stored = self._files(server_uuid, "rename")
        for move in files:
            source = self._path(f"{root.rstrip('/')}/{move['from']}")
            target = self._path(f"{root.rstrip('/')}/{move['to']}")
            for path in [p for p in stored if p == source or p.startswith(source + "/")]:
                stored[target + path[len(source) :]] = stored.pop(path)

    def copy(self, server_uuid: str, location: str) -> None:
        from mamba.domain.errors import WingsNotFoundError

        stored = self._files(server_uuid, "copy")
        source = self._path(location)
        if source not in stored:
            raise WingsNotFoundError("The file or directory does not exist on the node.", {"path": location})
        stem, dot, ext = source.rpartition(".")
        stored[f"{stem} copy{dot}{ext}" if dot and stem else f"{source} copy"] = stored[source]

    def create_directory(self, server_uuid: str, name: str, path: str = "/") -> None:
        self._files(server_uuid, "create_directory")

    def compress(self, server_uuid: str, root: str, files: list[str]) -> dict[str, Any]:
        stored = self._files(server_uuid, "compress")
        name = self._path(f"{root.rstrip('/')}/archive.tar.gz")
        stored[name] = b"archive"
        return {"name": name.rsplit("/", 1)[-1], "size": len(stored[name]), "directory": False, "file": True}

    def decompress(self, server_uuid: str, root: str, file: str) -> None:
        from mamba.domain.errors import WingsNotFoundError

        stored = self._files(server_uuid, "decompress")
        if self._path(f"{root.rstrip('/')}/{file}") not in stored:
            raise WingsNotFoundError("The file or directory does not exist on the node.", {"path": file})

    def chmod(self, server_uuid: str, root: str, files: list[dict[str, str]]) -> None:
        self._files(server_uuid, "chmod")

    def list_pulls(self, server_uuid: str) -> list[dict[str, Any]]:
        self._ask("list_pulls", server_uuid)
        return list(self.pulls.get(server_uuid, []))

    def pull(
        self,
        server_uuid: str,
        url: str,
        *,
        root: str = "/",
        file_name: str | None = None,
        use_header: bool = False,
        foreground: bool = False,
    ) -> dict[str, Any]:
        import secrets

        self._ask("pull", server_uuid)
        download = {"identifier": secrets.token_hex(8), "url": url, "root": root, "file_name": file_name}
        self.pulls.setdefault(server_uuid, []).append(download)
        return {"identifier": download["identifier"]}

    def cancel_pull(self, server_uuid: str, download_id: str) -> None:
        self._ask("cancel_pull", server_uuid)
        self.pulls[server_uuid] = [d for d in self.pulls.get(server_uuid, []) if d["identifier"] != download_id]

    def read_file(self, server_uuid: str, path: str, *, download: bool = False) -> bytes:
        from mamba.domain.errors import WingsNotFoundError

        server = self._ask("read_file", server_uuid)
        assert server is not None
        if self._path(path) not in server["files"]:
            raise WingsNotFoundError("The file or directory does not exist on the node.", {"path": path})
        return bytes(server["files"][self._path(path)])

    def list_directory(self, server_uuid: str, directory: str = "/") -> list[dict[str, Any]]:
        server = self._ask("list_directory", server_uuid)
        assert server is not None
        base = self._path(directory).rstrip("/") + "/"
        names = sorted({p[len(base) :].split("/")[0] for p in server["files"] if p.startswith(base)})
        entries = []
        for name in names:
            full = base + name
            is_file = full in server["files"]
            size = len(server["files"][full]) if is_file else 0
            entries.append({"name": name, "directory": not is_file, "file": is_file, "size": size})
        return sorted(entries, key=lambda e: (not e["directory"], e["name"]))

    def write_file(self, server_uuid: str, path: str, content: bytes) -> None:
        server = self._ask("write_file", server_uuid)
        assert server is not None
        server["files"][self._path(path)] = bytes(content)

    def delete_files(self, server_uuid: str, root: str, files: list[str]) -> None:
        server = self._ask("delete_files", server_uuid)
        assert server is not None
        for name in files:
            target = self._path(f"{root.rstrip('/')}/{name}")
            for path in [p for p in server["files"] if p == target or p.startswith(target + "/")]:
                del server["files"][path]

    def create_backup(self, server_uuid: str, backup_uuid: str, *, adapter: str = "wings", ignore: str = "") -> None:
        from mamba.domain.errors import ValidationError

        if adapter not in ("wings", "s3"):
            raise ValidationError("A backup adapter is wings or s3.", {"adapter": adapter})
        self._ask("create_backup", server_uuid)
        self.backups.append(("create", server_uuid, backup_uuid))

    def restore_backup(
        self,
        server_uuid: str,
        backup_uuid: str,
        *,
        adapter: str = "wings",
        truncate_directory: bool = False,
        download_url: str | None = None,
    ) -> None:
        from mamba.domain.errors import ValidationError

        if adapter not in ("wings", "s3"):
            raise ValidationError("A backup adapter is wings or s3.", {"adapter": adapter})
        if adapter == "s3" and not download_url:
            raise ValidationError("Restoring an S3 backup needs its download URL.", {"adapter": adapter})
        self._ask("restore_backup", server_uuid)
        self.backups.append(("restore", server_uuid, backup_uuid))

    def delete_backup(self, server_uuid: str, backup_uuid: str) -> None:
        self._ask("delete_backup", server_uuid)
        self.backups.append(("delete", server_uuid, backup_uuid))


# --- Stripe ------------------------------------------------------------------------------------

_stripe_ids = itertools.count(1)


@dataclass
class FakeStripe:
    """``StripeGateway`` with Stripe's objects in memory (tests/contract/test_stripe_gateway.py)."""

    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, SubscriptionFacts] = field(default_factory=dict)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    checkout_sessions: list[dict[str, Any]] = field(default_factory=list)
    portal_sessions: list[dict[str, Any]] = field(default_factory=list)
    meter_events: list[dict[str, Any]] = field(default_factory=list)
    balance_transactions: list[dict[str, Any]] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)
    _metered: dict[str, tuple[str, ...]] = field(default_factory=dict)
    down: bool = False
    payment_methods: set[str] = field(default_factory=set)
    fail_meter_events: int = 0
    prices: dict[str, PriceFacts] = field(default_factory=dict)

    def add_price(
        self,
        price_id: str,
        *,
        currency: str = "usd",
        interval: str | None = "month",
        metered: bool = False,
        active: bool = True,
    ) -> None:
        usage = None if interval is None else "metered" if metered else "licensed"
        self.prices[price_id] = PriceFacts(price_id, active, currency, interval, usage)

    def retrieve_price(self, price_id: str) -> PriceFacts:
        self._check()
        if price_id not in self.prices:
            raise NotFoundError("The billing record was not found at Stripe.", {"call": "prices.retrieve"})
        return self.prices[price_id]

    def _check(self) -> None:
        if self.down:
            raise DependencyUnavailableError("Billing is unavailable; try again shortly.")

    def create_customer(self, tenant_id: str, name: str, email: str | None) -> str:
        self._check()
        for cid, c in self.customers.items():  # Stripe's idempotency key customer:<tenant_id>
            if c["idempotency_key"] == f"customer:{tenant_id}":
                return cid
        cid = f"cus_{next(_stripe_ids):06d}"
        self.customers[cid] = {"name": name, "email": email, "idempotency_key": f"customer:{tenant_id}"}
        return cid

    def set_subscription(self, sub_id: str, customer: str, status: str, prices: tuple[str, ...], **extra: Any) -> None:
        """``extra`` names SubscriptionFacts fields; ``metered`` the prices among ``prices``
        whose items are metered."""
        metered = tuple(extra.pop("metered", ()))
        self.subscriptions[sub_id] = SubscriptionFacts(
            id=sub_id, customer=customer, status=status, price_ids=prices, **extra
        )
        self._metered[sub_id] = metered

    def update_subscription(self, sub_id: str, **changes: Any) -> None:
        self.subscriptions[sub_id] = replace(self.subscriptions[sub_id], **changes)

    def subscription_object(self, subscription_id: str) -> dict[str, Any]:
        """The subscription as the pinned API version returns it (tests/stripe_objects.py)."""
        from tests.stripe_objects import subscription_object

        facts = self.subscriptions[subscription_id]
        metered = self._metered.get(subscription_id, ())
        return subscription_object(
            facts.id,
            facts.customer,
            facts.status,
            tuple(p for p in facts.price_ids if p not in metered),
            facts.tenant_hint,
            metered=tuple(p for p in facts.price_ids if p in metered),
            current_period_end=facts.current_period_end,
            cancel_at_period_end=facts.cancel_at_period_end,
            default_payment_method="pm_card_visa" if facts.has_payment_method else None,
        )

    def retrieve_subscription(self, subscription_id: str) -> SubscriptionFacts:
        """Parsed by the product's own reader from the current-shape object, as StripeGateway does."""
        from mamba.adapters.stripe_client import subscription_facts

        self._check()
        self.retrieved.append(subscription_id)
        if subscription_id not in self.subscriptions:
            raise NotFoundError("The billing record was not found at Stripe.", {})
        return subscription_facts(self.subscription_object(subscription_id))

    def customer_has_payment_method(self, customer_id: str) -> bool:
        return customer_id in self.payment_methods

    def create_checkout_session(self, **params: Any) -> tuple[str, str]:
        self._check()
        session_id = f"cs_test_{next(_stripe_ids):06d}"
        self.checkout_sessions.append({"id": session_id, **params})
        return session_id, f"https://checkout.example/{session_id}"

    def create_credit_checkout(self, **params: Any) -> tuple[str, str]:
        self._check()
        session_id = f"cs_test_{next(_stripe_ids):06d}"
        self.checkout_sessions.append({"id": session_id, "mode": "payment", "payment_status": "unpaid", **params})
        return session_id, f"https://checkout.example/{session_id}"

    def pay_session(self, session_id: str) -> None:
        next(s for s in self.checkout_sessions if s["id"] == session_id)["payment_status"] = "paid"

    def retrieve_checkout_session(self, session_id: str) -> dict[str, Any]:
        self._check()
        s = next(s for s in self.checkout_sessions if s["id"] == session_id)
        return {
            "id": session_id,
            "mode": s.get("mode", "subscription"),
            "status": "complete" if s.get("payment_status") == "paid" else "open",
            "payment_status": s.get("payment_status", "paid"),
            "amount_total": s.get("amount_cents", 0),
            "currency": s.get("currency", "usd"),
            "customer": s["customer_id"],
            "client_reference_id": s["tenant_id"],
            "purpose": "credit" if s.get("mode") == "payment" else None,
        }

    def create_portal_session(
        self, customer_id: str, return_url: str, flow: str | None = None, subscription_id: str | None = None
    ) -> str:
        self._check()
        self.portal_sessions.append(
            {"customer": customer_id, "return_url": return_url, "flow": flow, "subscription": subscription_id}
        )
        return f"https://portal.example/{customer_id}"

    def list_invoices(
        self, customer_id: str, limit: int, starting_after: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        mine = [i for i in self.invoices if i["customer"] == customer_id]
        if starting_after:
            index = next(n for n, i in enumerate(mine) if i["id"] == starting_after)
            mine = mine[index + 1 :]
        rows = [{k: v for k, v in i.items() if k != "customer"} for i in mine[:limit]]
        return rows, len(mine) > limit

    def send_meter_event(self, event_name: str, customer_id: str, value: str, identifier: str, timestamp: int) -> None:
        if self.fail_meter_events > 0:
            self.fail_meter_events -= 1
            raise DependencyUnavailableError("Billing is unavailable; try again shortly.")
        if any(e["identifier"] == identifier for e in self.meter_events):
            return  # Stripe ignores a repeated identifier
        self.meter_events.append(
            {
                "event_name": event_name,
                "customer": customer_id,
                "value": value,
                "identifier": identifier,
                "timestamp": timestamp,
            }
        )

    def credit_customer_balance(
        self, customer_id: str, amount_cents: int, currency: str, description: str, idempotency_key: str
    ) -> str:
        self._check()
        for txn in self.balance_transactions:
            if txn["idempotency_key"] == idempotency_key:
                return str(txn["id"])
        txn_id = f"cbtxn_{next(_stripe_ids):06d}"
        self.balance_transactions.append(
            {
                "id": txn_id,
                "customer": customer_id,
                "amount": -amount_cents,
                "currency": currency,
                "idempotency_key": idempotency_key,
            }
        )
        return txn_id


class FakeWebhookVerifier:
    """``stripe_client.signature_valid`` without stripe: Stripe's ``t=<ts>,v1=<hmac>`` scheme
    checked with the standard library (so a unit test does not import stripe)."""

    def __init__(self, now: Any = None) -> None:
        import time

        self.now = now or time.time

    def __call__(self, payload: bytes, signature: str, secrets: tuple[str, ...], tolerance: int) -> bool:
        import hashlib
        import hmac

        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            return False
        parts = [p.split("=", 1) for p in signature.split(",") if "=" in p]
        stamps = [v for k, v in parts if k == "t"]
        macs = [v for k, v in parts if k == "v1"]
        if len(stamps) != 1 or not stamps[0].isdigit() or abs(self.now() - int(stamps[0])) > tolerance:
            return False
        signed = f"{stamps[0]}.{text}".encode()
        for secret in secrets:
            expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
            if any(hmac.compare_digest(expected, mac) for mac in macs):
                return True
        return False


# --- billing records -----------------------------------------------------------------------------


class FakeBillingRepository:
    """``DynamoBillingRepository`` in memory: plans and their price mappings, each tenant's
    billing state (a tenant must exist: ``add_tenant``), customer links, webhook event and
    notice claims, the usage ledger, run intervals and credits."""

    def __init__(self) -> None:
        self.plans: dict[str, Any] = {}
        self.prices: dict[str, str] = {}  # price id -> plan id
        self.states: dict[str, Any] = {}  # tenant id -> BillingState
        self.dunning: dict[str, int] = {}  # tenant id -> due at
        self.customers: dict[str, str] = {}  # customer id -> tenant id
        self.events: dict[str, str] = {}  # event id -> status
        self.notices: set[tuple[str, str]] = set()
        self.usage: dict[tuple[str, int, str, str], Any] = {}
        self.errors: dict[tuple[str, int, str, str], str] = {}
        self.run_spans: dict[str, list[list[Any]]] = {}  # server uuid -> [[started, ended, tenant, memory]]
        self.credits: dict[str, list[Any]] = {}
        self.balances: dict[str, dict[str, int]] = {}

    def add_tenant(self, tenant_id: str) -> None:
        from mamba.domain.billing import BillingState

        self.states.setdefault(tenant_id, BillingState(tenant_id=tenant_id))

    # --- plans ---

    def add_plan(self, plan: Any) -> None:
        if plan.id in self.plans:
            raise ConflictError("A plan with this id exists.", {"plan_id": plan.id})
        if any(price in self.prices for price in plan.price_ids()):
            raise ConflictError("A price id already belongs to another plan.", {"plan_id": plan.id})
        self.plans[plan.id] = plan
        self.prices.update(dict.fromkeys(plan.price_ids(), plan.id))

    def save_plan(self, current: Any, updated: Any) -> None:
        stored = self.plans.get(current.id)
        if stored is None or stored.updated_at != current.updated_at:
            raise ConflictError("The plan changed meanwhile; read it again.", {"plan_id": current.id})
        old, new = set(current.price_ids()), set(updated.price_ids())
        if any(price in self.prices for price in new - old):
            raise ConflictError("A price id already belongs to another plan.", {"plan_id": current.id})
        for price in old - new:
            self.prices.pop(price, None)
        self.prices.update(dict.fromkeys(new - old, updated.id))
        self.plans[updated.id] = updated

    def get_plan(self, plan_id: str) -> Any:
        if plan_id not in self.plans:
            raise NotFoundError("Plan not found.", {"plan_id": plan_id})
        return self.plans[plan_id]

    def list_plans(self, page: Any) -> Any:
        ordered = sorted(self.plans.values(), key=lambda p: (p.created_at, p.id))
        return _page(ordered, page, "plans")

    def plans_by_price(self, price_ids: tuple[str, ...]) -> dict[str, Any]:
        return {p: self.plans[self.prices[p]] for p in dict.fromkeys(price_ids) if p in self.prices}

    # --- tenants' billing state ---

    def get_state(self, tenant_id: str) -> Any:
        if tenant_id not in self.states:
            raise NotFoundError("Tenant not found.", {"tenant_id": tenant_id})
        return self.states[tenant_id]

    def save_state(self, state: Any, *, dunning_due_at: int | None) -> None:
        current = self.get_state(state.tenant_id)
        # The tenant's credit currency is set by its first credit only, never here.
        self.states[state.tenant_id] = replace(state, credit_currency=current.credit_currency)
        if dunning_due_at is None:
            self.dunning.pop(state.tenant_id, None)
        else:
            self.dunning[state.tenant_id] = dunning_due_at

    def set_billing_state(self, tenant_id: str, billing_state: str) -> None:
        self.states[tenant_id] = replace(self.get_state(tenant_id), billing_state=billing_state)

    def dunning_due(self, now: int) -> list[str]:
        return [t for t, due in sorted(self.dunning.items(), key=lambda kv: (kv[1], kv[0])) if due <= now]

    # --- customers ---

    def link_customer(self, tenant_id: str, customer_id: str) -> None:
        if self.customers.get(customer_id, tenant_id) != tenant_id:
            raise ConflictError("This Stripe customer belongs to another tenant.", {})
        state = self.states.get(tenant_id)
        if state is None or state.customer_id not in (None, customer_id):
            raise ConflictError("The tenant has another Stripe customer, or is gone.", {})
        self.customers[customer_id] = tenant_id
        self.states[tenant_id] = replace(state, customer_id=customer_id)

    def tenant_of_customer(self, customer_id: str) -> str | None:
        return self.customers.get(customer_id)

    # --- webhook event claims and notices ---

    def claim_event(self, event_id: str, event_type: str, received_at: str) -> bool:
        if event_id in self.events:
            return False
        self.events[event_id] = "queued"
        return True

    def event_processed(self, event_id: str) -> None:
        if event_id in self.events:
            self.events[event_id] = "processed"

    def release_event(self, event_id: str) -> None:
        if self.events.get(event_id) not in (None, "processed"):
            del self.events[event_id]

    def event_status(self, event_id: str) -> str | None:
        return self.events.get(event_id)

    def claim_notice(self, tenant_id: str, notice_key: str, now_iso: str, ttl_seconds: int = 90 * 86400) -> bool:
        if (tenant_id, notice_key) in self.notices:
            return False
        self.notices.add((tenant_id, notice_key))
        return True

    def release_notice(self, tenant_id: str, notice_key: str) -> None:
        self.notices.discard((tenant_id, notice_key))

    # --- usage ledger ---

    @staticmethod
    def _usage_key(row: Any) -> tuple[str, int, str, str]:
        return (row.tenant_id, row.hour, row.subject, row.metric)

    def record_usage(self, row: Any) -> Any:
        return self.usage.setdefault(self._usage_key(row), row)

    def unsent_usage(self, not_before: int, limit: int = 500) -> list[Any]:
        billable = [r for r in self.usage.values() if r.event_name and r.customer_id]
        waiting = [r for r in billable if r.sent_at is None and r.hour >= not_before]
        return sorted(waiting, key=lambda r: (r.hour, r.tenant_id, r.subject, r.metric))[:limit]

    def usage_sent(self, row: Any, sent_at: str) -> None:
        key = self._usage_key(row)
        self.usage[key] = replace(self.usage.get(key, row), sent_at=sent_at)

    def usage_failed(self, row: Any, error: str) -> None:
        key = self._usage_key(row)
        current = self.usage.get(key, row)
        self.usage[key] = replace(current, attempts=current.attempts + 1)
        self.errors[key] = error[:200]

    def usage_between(self, tenant_id: str, start_hour: int, end_hour: int) -> list[Any]:
        mine = [r for (t, hour, _, _), r in self.usage.items() if t == tenant_id and start_hour <= hour < end_hour]
        return sorted(mine, key=lambda r: (r.hour, r.subject, r.metric))

    # --- run intervals ---

    def observe_run(self, server_uuid: str, tenant_id: str, memory_mb: int, running: bool, at: int) -> None:
        spans = self.run_spans.setdefault(server_uuid, [])
        open_span = next((s for s in spans if s[1] is None), None)
        if running and open_span is None:
            spans.append([at, None, tenant_id, memory_mb])
        elif not running and open_span is not None:
            open_span[1] = max(at, open_span[0])

    def runs(self, server_uuid: str, start: int, end: int) -> list[tuple[int, int | None]]:
        spans = sorted(self.run_spans.get(server_uuid, []), key=lambda s: s[0])
        return [(s[0], s[1]) for s in spans if s[0] <= end and (s[1] is None or s[1] > start)]

    def tenant_ids(self) -> list[str]:
        return sorted(self.states)

    # --- credits ---

    def add_credit(self, entry: Any) -> None:
        mine = self.credits.setdefault(entry.tenant_id, [])
        if any(e.id == entry.id for e in mine):
            raise ConflictError("This credit entry exists.", {"entry_id": entry.id})
        state = self.get_state(entry.tenant_id)
        mine.append(entry)
        if state.credit_currency is None:
            self.states[entry.tenant_id] = replace(state, credit_currency=entry.currency)
        balances = self.balances.setdefault(entry.tenant_id, {})
        balances[entry.currency] = balances.get(entry.currency, 0) + entry.amount_cents

    def credit_balances(self, tenant_id: str) -> dict[str, int]:
        return dict(self.balances.get(tenant_id, {}))

    def list_credits(self, tenant_id: str, page: Any) -> Any:
        newest_first = sorted(self.credits.get(tenant_id, []), key=lambda e: (e.created_at, e.id), reverse=True)
        return _page(newest_first, page, f"credits:{tenant_id}")


# --- accounts: users, hashing, mailed tokens, sessions, rate limits, mail, CAPTCHA, 2FA -----------
# (held to the DynamoDB adapters by tests/contract/test_account_stores.py)


class FakeUserRepository:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}

    def add(self, user: User) -> None:
        if user.id in self.users:
            raise ConflictError("The user already exists.", {"user_id": user.id})
        if self.find_by_email(user.email) is not None:
            raise ConflictError("An account with this email already exists.", {"field": "email"})
        self.users[user.id] = user

    def get(self, user_id: str) -> User:
        if user_id not in self.users:
            raise NotFoundError("User not found.", {"user_id": user_id})
        return self.users[user_id]

    def find_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email.lower()), None)

    def _set(self, user_id: str, **changes: object) -> User:
        self.users[user_id] = replace(self.get(user_id), **changes)  # type: ignore[arg-type]
        return self.users[user_id]

    def set_admin(self, user_id: str, is_admin: bool) -> None:
        self._set(user_id, is_admin=is_admin)

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self._set(user_id, password_hash=password_hash)

    def set_name(self, user_id: str, name: str | None) -> None:
        self._set(user_id, name=name)

    def set_pending_email(self, user_id: str, email: str | None) -> None:
        self._set(user_id, pending_email=email)

    def mark_email_verified(self, user_id: str, email: str) -> bool:
        if user_id not in self.users or self.users[user_id].email != email:
            return False
        self._set(user_id, email_verified=True)
        return True

    def change_email(self, user_id: str, old_email: str, new_email: str) -> None:
        user = self.get(user_id)
        other = self.find_by_email(new_email)
        if other is not None:
            raise ConflictError("An account with this email already exists.", {"field": "email"})
        if user.email != old_email:
            raise ConflictError("The account's email changed meanwhile; try again.", {"field": "email"})
        self._set(user_id, email=new_email, email_verified=True, pending_email=None)

    def reset_password(
        self,
        user_id: str,
        password_hash: str,
        sessions_valid_after: int,
        *,
        credentials_reset_at: str | None = None,
        take_over: bool = False,
    ) -> None:
        user = self.get(user_id)
        self._set(
            user_id,
            password_hash=password_hash,
            sessions_valid_after=sessions_valid_after,
            failed_logins=0,
            locked_until=None,
            credentials_reset_at=credentials_reset_at or user.credentials_reset_at,
        )
        if take_over:
            self._set(user_id, totp_enabled=False, pending_email=None)

    def revoke_sessions(self, user_id: str, valid_after: int) -> None:
        self._set(user_id, sessions_valid_after=valid_after)

    def delete(self, user_id: str, email: str) -> None:
        """The account and its address go together (account deletion); gone already is fine."""
        user = self.users.get(user_id)
        if user is not None and user.email != email:
            raise ConflictError("The account changed meanwhile; try again.", {"reason": "concurrent"})
        self.users.pop(user_id, None)

    def record_login_failure(self, user_id: str) -> int:
        return self._set(user_id, failed_logins=self.get(user_id).failed_logins + 1).failed_logins

    def lock(self, user_id: str, until: int, threshold: int) -> bool:
        if user_id not in self.users or self.users[user_id].failed_logins < threshold:
            return False
        self._set(user_id, locked_until=until, failed_logins=0)
        return True

    def clear_login_failures(self, user_id: str) -> None:
        self._set(user_id, failed_logins=0, locked_until=None)


class FakeHasher:
    """Not a hash: readable, instant, and it counts verifications (the timing equaliser)."""

    def __init__(self, version: str = "v1") -> None:
        self.version = version
        self.verified: list[str | None] = []

    def hash(self, password: str) -> str:
        return f"fake-{self.version}${password}"

    def verify(self, password_hash: str | None, password: str) -> bool:
        self.verified.append(password_hash)
        return password_hash is not None and password_hash.split("$", 1)[1] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"fake-{self.version}$")


class FakeTokenStore:
    def __init__(self) -> None:
        self.tokens: dict[str, OneTimeToken] = {}

    def add(self, digest: str, token: OneTimeToken) -> None:
        if digest in self.tokens:
            raise ConflictError("token exists")
        self.tokens[digest] = token

    def consume(self, digest: str) -> OneTimeToken | None:
        return self.tokens.pop(digest, None)


class FakeSessionStore:
    def __init__(self) -> None:
        self.families: dict[str, RefreshFamily] = {}
        self.tokens: dict[tuple[str, str], RefreshToken] = {}

    def start(self, family: RefreshFamily, token_digest: str) -> None:
        self.families[family.id] = family
        self.tokens[(family.id, token_digest)] = RefreshToken(family.id, family.user_id, family.expires_at)

    def load(self, family_id: str, token_digest: str) -> tuple[RefreshFamily | None, RefreshToken | None]:
        return self.families.get(family_id), self.tokens.get((family_id, token_digest))

    def rotate(
        self,
        family: RefreshFamily,
        old_digest: str,
        new_digest: str,
        now: int,
        client: ClientHints | None = None,
    ) -> bool:
        old = self.tokens.get((family.id, old_digest))
        current = self.families.get(family.id)
        if old is None or old.used_at is not None or current is None or current.revoked:
            return False
        self.tokens[(family.id, old_digest)] = replace(old, used_at=now)
        self.tokens[(family.id, new_digest)] = RefreshToken(family.id, family.user_id, family.expires_at)
        client = client or ClientHints()
        self.families[family.id] = replace(
            current,
            last_used_at=now,
            ip=client.ip or current.ip,
            user_agent=client.user_agent or current.user_agent,
        )
        return True

    def revoke(self, family_id: str, reason: str) -> None:
        if family_id in self.families:
            self.families[family_id] = replace(self.families[family_id], revoked=True)

    def list_for_user(self, user_id: str, page: PageRequest) -> Page[RefreshFamily]:
        # Like the gsi1 listing: unrevoked only, newest first; the cursor is the last id shown.
        mine = sorted(
            (f for f in self.families.values() if f.user_id == user_id and not f.revoked),
            key=lambda f: (f.created_at, f.id),
            reverse=True,
        )
        start = next((i + 1 for i, f in enumerate(mine) if f.id == page.cursor), 0) if page.cursor else 0
        chunk = mine[start : start + page.limit]
        more = start + page.limit < len(mine)
        return Page(items=chunk, next_cursor=chunk[-1].id if more and chunk else None)

    def revoke_for_user(self, user_id: str, family_id: str, reason: str) -> bool:
        family = self.families.get(family_id)
        if family is None or family.user_id != user_id:
            return False
        self.revoke(family_id, reason)
        return True


class FakeRateLimiter:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}

    def add(self, limit: Limit, subject: str, now: int) -> int:
        key = (limit.name, subject.strip().lower(), limit.window_start(now))
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]

    def peek(self, checks: Sequence[tuple[Limit, str]], now: int) -> list[int]:
        return [self.counts.get((limit.name, s.strip().lower(), limit.window_start(now)), 0) for limit, s in checks]

    def release(self, limit: Limit, subject: str, now: int) -> None:
        key = (limit.name, subject.strip().lower(), limit.window_start(now))
        if self.counts.get(key, 0) > 0:
            self.counts[key] -= 1


@dataclass
class FakeMailer:
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    fail: bool = False

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        if self.fail:
            raise DependencyUnavailableError("Mail could not be sent; try again shortly.")
        self.sent.append((to, subject, text))

    def to(self, address: str) -> list[tuple[str, str]]:
        return [(subject, text) for to, subject, text in self.sent if to == address]


@dataclass
class FakeEventPublisher:
    """Records what was published; ``fail`` makes publishing raise like a refused SQS send."""

    published: list[Any] = field(default_factory=list)
    fail: bool = False

    def publish(self, events: Sequence[Any]) -> None:
        if self.fail:
            raise DependencyUnavailableError("Events could not be queued; try again shortly.")
        self.published.extend(events)

    def of_type(self, event_type: str) -> list[Any]:
        return [e for e in self.published if e.type == event_type]


class FakeCaptcha:
    def __init__(self, accept: str = "good-token") -> None:
        self.accept = accept
        self.seen: list[tuple[str | None, str]] = []

    def verify(self, token: str | None, remote_ip: str) -> None:
        self.seen.append((token, remote_ip))
        if token != self.accept:
            raise CaptchaFailedError("The CAPTCHA was not solved; try again.", {"field": "captcha_token"})


@dataclass
class FakeSecondFactor:
    """Accepts ``code`` for users listed in ``enabled``; raises like mamba.services.two_factor."""

    code: str = "123456"
    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def __call__(self, user_id: str, code: str | None) -> None:
        from mamba.domain.errors import UnauthorizedError

        self.calls.append((user_id, code))
        if code is None:
            raise UnauthorizedError("A two-factor code is required.", {"reason": "totp_required"})
        if code != self.code:
            raise UnauthorizedError("The two-factor code is not valid.", {"reason": "totp_invalid"})


@dataclass
class AccountWorld:
    """Every fake, wired into AccountPorts (``world.ports``)."""

    users: FakeUserRepository = field(default_factory=FakeUserRepository)
    hasher: FakeHasher = field(default_factory=FakeHasher)
    tokens: FakeTokenStore = field(default_factory=FakeTokenStore)
    sessions: FakeSessionStore = field(default_factory=FakeSessionStore)
    limiter: FakeRateLimiter = field(default_factory=FakeRateLimiter)
    mailer: FakeMailer = field(default_factory=FakeMailer)
    second_factor: FakeSecondFactor = field(default_factory=FakeSecondFactor)
    captcha: FakeCaptcha | None = None
    policy: AccountPolicy = field(default_factory=AccountPolicy)
    waited: list[int] = field(default_factory=list)
    mail_failures: list[str] = field(default_factory=list)
    api_keys: FakeApiKeyRepository = field(default_factory=lambda: FakeApiKeyRepository())

    @property
    def ports(self) -> AccountPorts:
        return AccountPorts(
            users=self.users,
            hasher=self.hasher,
            tokens=self.tokens,
            sessions=self.sessions,
            limiter=self.limiter,
            mailer=self.mailer,
            issue_access=lambda user_id, issued_at, family_id=None: f"access:{user_id}:{issued_at}",
            public_url="https://panel.example",
            captcha=self.captcha,
            second_factor=self.second_factor,
            wait_until=self.waited.append,
            policy=self.policy,
            on_mail_failure=lambda subject, exc: self.mail_failures.append(subject),
            api_keys=self.api_keys,
        )


# --- tenancy: tenants, members, invitations, custom roles ------------------------------------------


class FakeTenancyRepository:
    """``DynamoTenantRepository`` in memory, over a FakeUserRepository (owners must exist;
    contacts and 2FA are read from it). Keeps the adapter's counters and conditions: the
    owner count (a tenant keeps one owner), custom roles' member counts and versions, an
    invitation consumed once by its token hash."""

    def __init__(self, users: FakeUserRepository | None = None, page_cap: int | None = None) -> None:
        self.users = users or FakeUserRepository()
        # A Query answers at most 1 MB: ``page_cap`` cuts member pages short, as a big tenant's are.
        self.page_cap = page_cap
        self.tenants: dict[str, Any] = {}  # id -> TenantInfo
        self.members: dict[tuple[str, str], Any] = {}  # (tenant, user) -> Member
        self.invitations: dict[tuple[str, str], Any] = {}
        self.roles: dict[tuple[str, str], Any] = {}  # (tenant, role id) -> Role
        self.owned: dict[str, int] = {}  # user -> tenants counted against the per-account cap

    @staticmethod
    def _custom(role: str) -> bool:
        return role.startswith("rl_")

    def _owners(self, tenant_id: str) -> int:
        return sum(1 for (t, _), m in self.members.items() if t == tenant_id and m.role == "owner")

    def _info(self, tenant_id: str) -> Any:
        return replace(self.tenants[tenant_id], owner_count=self._owners(tenant_id))

    # --- tenants ---

    def add_with_owner(self, tenant: Any, owner: Any, *, max_owned: int | None = None) -> None:
        from mamba.domain.errors import TenantLimitError

        if tenant.id in self.tenants:
            raise ConflictError("The tenant already exists.", {"tenant_id": tenant.id})
        if owner.user_id not in self.users.users:
            raise NotFoundError("The owner does not exist.", {"user_id": owner.user_id})
        if max_owned is not None:
            if self.owned.get(owner.user_id, 0) >= max_owned:
                raise TenantLimitError(f"An account can own at most {max_owned} tenants.", {"limit": max_owned})
            self.owned[owner.user_id] = self.owned.get(owner.user_id, 0) + 1
        self.tenants[tenant.id] = replace(tenant, owner_count=None)
        self.members[(tenant.id, owner.user_id)] = owner

    def get(self, tenant_id: str) -> Any:
        return self.get_tenant(tenant_id)

    def get_tenant(self, tenant_id: str) -> Any:
        if tenant_id not in self.tenants:
            raise NotFoundError("Tenant not found.", {"tenant_id": tenant_id})
        return self._info(tenant_id)

    def update_tenant(
        self, tenant_id: str, *, name: str | None, require_2fa: bool | None, actor_id: str, now: str
    ) -> Any:
        current = self.get_tenant(tenant_id)
        if require_2fa:
            actor = self.users.users.get(actor_id)
            if actor is None or not actor.totp_enabled:
                raise ConflictError(
                    "Turn on two-factor authentication for your own account before requiring it of members.",
                    {"field": "require_2fa", "reason": "actor_without_2fa"},
                )
        changes: dict[str, Any] = {"updated_at": now}
        if name is not None:
            changes["name"] = name
        if require_2fa is not None:
            changes["require_2fa"] = require_2fa
        self.tenants[tenant_id] = replace(current, **changes)
        return self.get_tenant(tenant_id)

    def tenants_of_user(self, user_id: str, page: Any) -> Any:
        from mamba.domain.tenancy import UserTenant

        mine = sorted((m for (_, u), m in self.members.items() if u == user_id), key=lambda m: m.tenant_id)
        found = _page(mine, page, f"tenants-of:{user_id}")
        items = [
            UserTenant(self._info(m.tenant_id), m.role, m.server_id, m.expires_at)
            for m in found.items
            if m.tenant_id in self.tenants
        ]
        return Page(items=items, next_cursor=found.next_cursor)

    def membership(self, tenant_id: str, user_id: str) -> Any:
        return self.members.get((tenant_id, user_id))

    def memberships_of_user(self, user_id: str) -> list[Any]:
        mine = sorted(t for (t, u) in self.members if u == user_id)
        return [self.membership(t, user_id) for t in mine]

    # --- members ---

    def get_member(self, tenant_id: str, user_id: str) -> Any:
        if (tenant_id, user_id) not in self.members:
            raise NotFoundError("Member not found.", {"user_id": user_id})
        return self.members[(tenant_id, user_id)]

    def list_members(self, tenant_id: str, page: Any) -> Any:
        mine = sorted((m for (t, _), m in self.members.items() if t == tenant_id), key=lambda m: m.user_id)
        if self.page_cap is not None:
            page = PageRequest(min(page.limit, self.page_cap), page.cursor)
        return _page(mine, page, f"members:{tenant_id}")

    def contacts(self, user_ids: list[str]) -> dict[str, Any]:
        from mamba.domain.tenancy import Contact

        return {
            u: Contact(email=self.users.users[u].email, name=self.users.users[u].name)
            for u in dict.fromkeys(user_ids)
            if u in self.users.users
        }

    def is_member_email(self, tenant_id: str, email: str) -> bool:
        user = self.users.find_by_email(email)
        return user is not None and (tenant_id, user.id) in self.members

    def _role_moves(self, tenant_id: str, old: str | None, new: str | None, version: int | None) -> None:
        """Check the counters' conditions of a binding moving from ``old`` to ``new`` (None:
        no binding), then apply them; nothing is changed when a condition fails."""
        if old == "owner" and new != "owner" and self._owners(tenant_id) <= 1:
            raise ConflictError("A tenant must keep at least one owner.", {"reason": "last_owner"})
        if new is not None and self._custom(new):
            role = self.roles.get((tenant_id, new))
            if role is None or role.version != (version or 0):
                raise ConflictError("The role changed or was deleted meanwhile; try again.", {"reason": "role_changed"})
        if old == new:
            return
        if old is not None and self._custom(old) and (tenant_id, old) in self.roles:
            role = self.roles[(tenant_id, old)]
            self.roles[(tenant_id, old)] = replace(role, members=role.members - 1)
        if new is not None and self._custom(new):
            role = self.roles[(tenant_id, new)]
            self.roles[(tenant_id, new)] = replace(role, members=role.members + 1)

    def change_binding(self, current: Any, updated: Any, role_version: int | None) -> None:
        stored = self.members.get((current.tenant_id, current.user_id))
        if stored is None or stored.role != current.role:
            raise ConflictError(
                "The member changed meanwhile; try again.", {"user_id": current.user_id, "reason": "concurrent"}
            )
        self._role_moves(current.tenant_id, current.role, updated.role, role_version)
        self.members[(current.tenant_id, current.user_id)] = replace(
            stored,
            role=updated.role,
            permissions=updated.permissions,
            server_id=updated.server_id,
            expires_at=updated.expires_at,
        )

    def remove_member(self, current: Any) -> None:
        stored = self.members.get((current.tenant_id, current.user_id))
        if stored is None or stored.role != current.role:
            raise ConflictError(
                "The member changed meanwhile; try again.", {"user_id": current.user_id, "reason": "concurrent"}
            )
        self._role_moves(current.tenant_id, current.role, None, None)
        del self.members[(current.tenant_id, current.user_id)]

    # --- invitations ---

    def put_invitation(self, invitation: Any) -> None:
        self.invitations[(invitation.tenant_id, invitation.id)] = invitation

    def get_invitation(self, tenant_id: str, invitation_id: str) -> Any:
        if (tenant_id, invitation_id) not in self.invitations:
            raise NotFoundError("Invitation not found.", {"invitation_id": invitation_id})
        return self.invitations[(tenant_id, invitation_id)]

    def list_invitations(self, tenant_id: str, page: Any) -> Any:
        mine = sorted((i for (t, _), i in self.invitations.items() if t == tenant_id), key=lambda i: i.id)
        return _page(mine, page, f"invitations:{tenant_id}")

    def delete_invitation(self, tenant_id: str, invitation_id: str) -> None:
        self.get_invitation(tenant_id, invitation_id)
        del self.invitations[(tenant_id, invitation_id)]

    def accept_invitation(self, invitation: Any, member: Any, role_version: int | None) -> None:
        stored = self.invitations.get((invitation.tenant_id, invitation.id))
        if stored is None or stored.token_hash != invitation.token_hash:
            raise NotFoundError("The invitation does not exist or has expired.", {"field": "token"})
        if (member.tenant_id, member.user_id) in self.members:
            raise ConflictError("You are already a member of this tenant.", {"reason": "already_member"})
        self._role_moves(member.tenant_id, None, member.role, role_version)
        del self.invitations[(invitation.tenant_id, invitation.id)]
        self.members[(member.tenant_id, member.user_id)] = member

    # --- custom roles ---

    def get_role(self, tenant_id: str, role_id: str) -> Any:
        if (tenant_id, role_id) not in self.roles:
            raise NotFoundError("Role not found.", {"role_id": role_id})
        return self.roles[(tenant_id, role_id)]

    def list_roles(self, tenant_id: str, page: Any) -> Any:
        mine = sorted((r for (t, _), r in self.roles.items() if t == tenant_id), key=lambda r: r.id)
        return _page(mine, page, f"roles:{tenant_id}")

    def _name_taken(self, tenant_id: str, name: str, but: str | None = None) -> bool:
        wanted = name.strip().lower()
        return any(
            t == tenant_id and r.name.strip().lower() == wanted and r.id != but for (t, _), r in self.roles.items()
        )

    def add_role(self, role: Any) -> None:
        if self._name_taken(role.tenant_id, role.name):
            raise ConflictError("A role with this name exists.", {"field": "name"})
        if (role.tenant_id, role.id) in self.roles:
            raise ConflictError("The role already exists.", {"role_id": role.id})
        self.roles[(role.tenant_id, role.id)] = replace(role, members=0)

    def update_role(self, current: Any, updated: Any) -> None:
        stored = self.roles.get((current.tenant_id, current.id))
        if self._name_taken(current.tenant_id, updated.name, but=current.id):
            raise ConflictError("A role with this name exists.", {"field": "name"})
        if stored is None or stored.version != current.version:
            raise ConflictError("The role changed meanwhile; try again.", {"role_id": current.id})
        self.roles[(current.tenant_id, current.id)] = replace(
            stored,
            name=updated.name,
            permissions=updated.permissions,
            updated_at=updated.updated_at or "",
            version=updated.version,
            description=updated.description,
        )

    def sync_role_bindings(self, role: Any) -> int:
        bound = [k for k, m in self.members.items() if k[0] == role.tenant_id and m.role == role.id]
        for key in bound:
            self.members[key] = replace(self.members[key], permissions=frozenset(role.permissions))
        return len(bound)

    def delete_role(self, role: Any) -> None:
        stored = self.roles.get((role.tenant_id, role.id))
        if stored is None:
            raise ConflictError("The role changed meanwhile; try again.", {"role_id": role.id})
        if stored.members:
            raise ConflictError("The role is still bound to members; change their role first.", {"role_id": role.id})
        del self.roles[(role.tenant_id, role.id)]


class FakeAdminRepository:
    """``DynamoAdminRepository`` over the tenancy fake (and its users): platform-wide listings
    in creation order, and account and tenant status that never create an unknown id."""

    def __init__(self, tenancy: FakeTenancyRepository | None = None) -> None:
        self.tenancy = tenancy or FakeTenancyRepository()
        self.users = self.tenancy.users

    @staticmethod
    def _summary(user: Any) -> Any:
        from mamba.domain.accounts import UserSummary

        return UserSummary(
            id=user.id,
            email=user.email,
            created_at=user.created_at,
            name=user.name,
            is_admin=user.is_admin,
            email_verified=user.email_verified,
            status=user.status,
            totp_enabled=user.totp_enabled,
        )

    def list_users(self, page: Any) -> Any:
        ordered = sorted(self.users.users.values(), key=lambda u: (u.created_at, u.id))
        found = _page(ordered, page, "admin.users")
        return Page(items=[self._summary(u) for u in found.items], next_cursor=found.next_cursor)

    def get_user(self, user_id: str) -> Any:
        return self._summary(self.users.get(user_id))

    def memberships_of_user(self, user_id: str) -> list[Any]:
        return [m for (_, u), m in sorted(self.tenancy.members.items()) if u == user_id]

    def _check_actor(self, actor_id: str | None) -> None:
        """The Dynamo transaction's condition check: the actor is still an active admin."""
        if actor_id is None:
            return
        from mamba.domain.errors import LastAdminError

        actor = self.users.users.get(actor_id)
        if actor is None or not actor.is_admin or actor.status != "active":
            raise LastAdminError("You are no longer an active admin.", {"reason": "last_admin"})

    def set_user_admin(self, user_id: str, is_admin: bool, now: str, *, actor_id: str | None = None) -> Any:
        self.get_user(user_id)
        self._check_actor(actor_id)
        self.users._set(user_id, is_admin=is_admin)
        return self.get_user(user_id)

    def set_user_status(
        self,
        user_id: str,
        status: str,
        sessions_valid_after: int | None,
        now: str,
        *,
        credentials_reset_at: str | None = None,
        actor_id: str | None = None,
    ) -> Any:
        self.get_user(user_id)
        self._check_actor(actor_id)
        changes: dict[str, Any] = {"status": status}
        if sessions_valid_after is not None:
            changes["sessions_valid_after"] = sessions_valid_after
        if credentials_reset_at is not None:
            changes["credentials_reset_at"] = credentials_reset_at
        self.users._set(user_id, **changes)
        return self.get_user(user_id)

    def list_tenants(self, page: Any) -> Any:
        ordered = sorted(self.tenancy.tenants, key=lambda t: (self.tenancy.tenants[t].created_at, t))
        found = _page(ordered, page, "admin.tenants")
        return Page(items=[self.tenancy._info(t) for t in found.items], next_cursor=found.next_cursor)

    def get_tenant(self, tenant_id: str) -> Any:
        return self.tenancy.get_tenant(tenant_id)

    def set_tenant_status(self, tenant_id: str, status: str, now: str) -> Any:
        current = self.tenancy.get_tenant(tenant_id)
        self.tenancy.tenants[tenant_id] = replace(current, status=status, updated_at=now)
        return self.get_tenant(tenant_id)


class FakeIdentityRepository:
    """``DynamoIdentityRepository``: the guard's one read, over the user, tenancy and key fakes."""

    def __init__(
        self,
        tenancy: FakeTenancyRepository | None = None,
        keys: FakeApiKeyRepository | None = None,
    ) -> None:
        self.tenancy = tenancy or FakeTenancyRepository()
        self.users = self.tenancy.users
        self.keys = keys or FakeApiKeyRepository()

    def load(
        self,
        user_id: str,
        tenant_id: str | None,
        key_id: str | None = None,
        *,
        read_ahead: Mapping[str, str] | None = None,
    ) -> Any:
        from mamba.domain.accounts import AuthFacts

        tenant = None
        if tenant_id is not None and tenant_id in self.tenancy.tenants:
            tenant = self.tenancy._info(tenant_id)
        return AuthFacts(
            user=self.users.users.get(user_id),
            membership=self.tenancy.members.get((tenant_id, user_id)) if tenant_id is not None else None,
            tenant=tenant,
            api_key=self.keys.keys.get(key_id) if key_id is not None else None,
        )


class FakeTenantUsageReader:
    """``DynamoTenantUsageReader`` over the billing, placement and backup fakes: the tenant's
    plan and ``plan_quotas`` (what billing wrote, as the placement store reads it), the stored
    free plan's quotas, the servers' usage and the backup storage counter."""

    def __init__(
        self,
        billing: FakeBillingRepository | None = None,
        placement: FakePlacementStore | None = None,
        backups: FakeBackupRepository | None = None,
    ) -> None:
        self.billing = billing or FakeBillingRepository()
        self.placement = placement or FakePlacementStore()
        self.backups = backups or FakeBackupRepository()

    def read(self, tenant_id: str) -> Any:
        from mamba.domain.quotas import UsageFacts

        state = self.billing.states.get(tenant_id)
        free = self.billing.plans.get("free")
        return UsageFacts(
            plan_id=(state.plan_id if state is not None else None) or "free",
            plan_quotas=self.placement.plan_quotas(tenant_id),
            stored_free_quotas=free.quotas if free is not None else None,
            servers=self.placement.usage(tenant_id, self.placement.guard(tenant_id)),
            backup_bytes=self.backups.usage(tenant_id),
        )


class FakeDeadLetterQueue:
    """The Stripe events dead-letter queue in memory: ``messages`` wait, ``redriven`` got sent
    back to the events queue (in order). Behaves like ``SqsDeadLetterQueue`` (contract tests)."""

    def __init__(self) -> None:
        from mamba.domain.overview import DeadLetterMessage

        self._message = DeadLetterMessage
        self.messages: list[Any] = []
        self.redriven: list[str] = []

    def add(self, body: str, receive_count: int = 5) -> None:
        self.messages.append(
            self._message(f"msg-{len(self.messages) + len(self.redriven)}", body, receive_count, "2026-11-25T10:00:00Z")
        )

    def depth(self) -> int:
        return len(self.messages)

    def peek(self, limit: int) -> list[Any]:
        return list(self.messages[:limit])

    def redrive(self, limit: int) -> int:
        moved, self.messages = self.messages[:limit], self.messages[limit:]
        self.redriven += [m.body for m in moved]
        return len(moved)


class FakeDeadLetterErrors:
    """The first error of each failed Stripe event, in memory (``DynamoDeadLetterErrors``)."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        self.down = False

    def record_first(self, event_id: str, error: str, at: str, now_epoch: int) -> None:
        if self.down:
            from mamba.domain.errors import DependencyUnavailableError

            raise DependencyUnavailableError("The fleet figures could not be read; try again.")
        self.errors.setdefault(event_id, error)

    def first_errors(self, event_ids: list[str]) -> dict[str, str]:
        return {e: self.errors[e] for e in event_ids if e in self.errors}


class FakeTenantData:
    """``DynamoTenantData`` in memory: a tenant's records as sort keys (``records[tid]``) and its
    operations' (status, created_at); the kept prefixes survive a purge, as in the adapter."""

    KEPT = ("AUDIT#", "CREDIT#", "CREDITBAL#", "CREDITID#", "DELETED")

    def __init__(self) -> None:
        self.records: dict[str, set[str]] = {}
        self.operations: dict[str, list[tuple[str, str]]] = {}
        self.purges: list[str] = []

    def open_operations(self, tenant_id: str, since: str) -> int:
        return sum(
            1 for status, at in self.operations.get(tenant_id, []) if status in ("pending", "running") and at >= since
        )

    def purge(self, tenant_id: str, deleted_at: str, budget: int) -> Any:
        from mamba.domain.retention import Purged

        self.purges.append(tenant_id)
        records = self.records.get(tenant_id, set())
        doomed = sorted(sk for sk in records if sk != "PROFILE" and not sk.startswith(self.KEPT))[:budget]
        removed: dict[str, int] = {}
        for sk in doomed:
            records.discard(sk)
            kind = sk.split("#", 1)[0].lower()
            removed[kind] = removed.get(kind, 0) + 1
        if len(doomed) >= budget:  # as the adapter: a call that used its budget leaves the rest for the next
            return Purged(removed, finished=False)
        if "PROFILE" in records:
            records.discard("PROFILE")
            records.add("DELETED")
            removed["profile"] = 1
        return Purged(removed, finished=True)


# --- metrics history and server events (issue 13) ---------------------------------------------


class FakeMetricsStore:
    """``DynamoMetricsStore`` in memory: node minutes, hour rollups (five-minute points, the
    hour's point, and the day's hourly points on a day's last hour) and the rollup markers.
    ``writes`` counts the write calls as the adapter makes them (one per minute, one batch
    call per 25 rollups, one per marker)."""

    def __init__(self) -> None:
        self.minute_items: dict[tuple[str, int], dict[str, Any]] = {}
        self._times: dict[str, list[int]] = {}  # each node's minutes, sorted
        self.rollup_items: dict[tuple[str, int], tuple[list[Any], Any, list[Any] | None]] = {}
        self.markers: dict[str, int] = {}
        self.writes: list[str] = []

    def put_minute(self, node_id: str, t: int, samples: dict[str, Any]) -> None:
        import bisect

        self.writes.append("minute")
        if (node_id, t) not in self.minute_items:
            bisect.insort(self._times.setdefault(node_id, []), t)
        self.minute_items[(node_id, t)] = dict(samples)

    def put_rollups(self, rows: Any) -> int:
        rows = list(rows)
        for start in range(0, len(rows), 25):
            self.writes.append("rollups")
            for partition, hour, five, hourly, day in rows[start : start + 25]:
                self.rollup_items[(partition, hour)] = (list(five), hourly, list(day) if day is not None else None)
        return len(rows)

    def rolled_until(self, node_id: str) -> int | None:
        return self.markers.get(node_id)

    def set_rolled(self, node_id: str, hour: int) -> None:
        self.writes.append("marker")
        self.markers[node_id] = hour

    def minutes(self, node_id: str, start: int, end: int, *, max_pages: int = 3) -> list[tuple[int, dict[str, Any]]]:
        import bisect

        times = self._times.get(node_id, [])
        chosen = times[bisect.bisect_left(times, start) : bisect.bisect_left(times, end)]
        return [(t, self.minute_items[(node_id, t)]) for t in chosen]

    def last_minute(self, node_id: str, before: int) -> tuple[int, dict[str, Any]] | None:
        import bisect

        times = self._times.get(node_id, [])
        at = bisect.bisect_left(times, before)
        return (times[at - 1], self.minute_items[(node_id, times[at - 1])]) if at else None

    def rollups(self, partition: str, start: int, end: int, *, max_pages: int = 3) -> tuple[list[Any], list[Any]]:
        first = start - start % 3600
        five: list[Any] = []
        hourly: dict[int, Any] = {}
        for (p, hour), (points, hour_point, day) in sorted(self.rollup_items.items()):
            if p != partition or not first <= hour <= end - 1:
                continue
            five += points
            for point in day or []:
                hourly[point.t] = point
            if hour_point is not None:
                hourly[hour_point.t] = hour_point
        return five, [hourly[t] for t in sorted(hourly)]


class FakeServerEvents:
    """``DynamoServerEvents`` in memory: each server's events and last power request."""

    def __init__(self) -> None:
        self.events: dict[str, dict[tuple[int, str], Any]] = {}
        self.power: dict[str, tuple[str, int]] = {}
        self.tenants: dict[str, str] = {}

    def add(self, event: Any, tenant_id: str) -> None:
        self.events.setdefault(event.server_uuid, {})[(event.at, event.id)] = event
        self.tenants[event.id] = tenant_id

    def since(self, server_uuid: str, since: int) -> list[Any]:
        log = self.events.get(server_uuid, {})
        return [log[key] for key in sorted(log) if key[0] >= since]

    def page(self, server_uuid: str, page: PageRequest) -> Page[Any]:
        log = self.events.get(server_uuid, {})
        return _page([log[key] for key in sorted(log, reverse=True)], page, f"events:{server_uuid}")  # type: ignore[no-any-return]

    def mark_power(self, server_uuid: str, action: str, at: int) -> None:
        self.power[server_uuid] = (action, at)

    def last_power(self, server_uuid: str) -> tuple[str, int] | None:
        return self.power.get(server_uuid)


class FakeTaskTokens:
    """``DynamoTaskTokenStore`` in memory: one parked token per subject."""

    def __init__(self) -> None:
        self.parked: dict[str, tuple[str, int]] = {}  # subject -> (token, expires_at)

    def park(self, subject: str, token: str, now: int, expires_at: int) -> None:
        self.parked[subject] = (token, expires_at)

    def token(self, subject: str) -> str | None:
        found = self.parked.get(subject)
        return found[0] if found else None

    def forget(self, subject: str, token: str) -> None:
        if self.token(subject) == token:
            del self.parked[subject]


class FakeTaskCallbacks:
    """``SfnWorkflows``' SendTaskSuccess/Failure: records each delivery. A token is resumed at
    most once, as on AWS (a second delivery, or one to a token in ``gone``, answers False);
    ``down`` makes every call DependencyUnavailableError."""

    def __init__(self, waiting: set[str] | None = None) -> None:
        self.delivered: dict[str, tuple[str, Any]] = {}  # token -> ("success", output) | ("failure", (error, cause))
        self.gone: set[str] = set()
        self.down = False
        self.waiting = waiting  # the tokens of tasks that wait; None: any token not yet resumed

    def _record(self, token: str, outcome: tuple[str, Any]) -> bool:
        if self.down:
            raise DependencyUnavailableError("The waiting workflow could not be resumed; try again shortly.")
        if token in self.delivered or token in self.gone or (self.waiting is not None and token not in self.waiting):
            return False
        self.delivered[token] = outcome
        return True

    def succeed_task(self, token: str, output: dict[str, Any]) -> bool:
        return self._record(token, ("success", output))

    def fail_task(self, token: str, error: str, cause: str) -> bool:
        return self._record(token, ("failure", (error, cause)))


class FakeNotificationStore:
    """In-memory ``NotificationStore``: notifications per user, the unread count, preferences,
    mail claims; ``fail_add`` makes storing refuse like DynamoDB when busy."""

    def __init__(self) -> None:
        self.members: dict[str, list[Any]] = {}  # tenant id → Binding
        self.people: dict[str, Any] = {}  # user id → Recipient
        self.admins: list[Any] = []
        self.prefs: dict[str, Any] = {}
        self.items: dict[str, dict[str, Any]] = {}  # user id → event id → Notification
        self.unread: dict[str, int] = {}
        self.claims: set[tuple[str, str]] = set()
        self.fail_add = False

    def bindings(self, tenant_id: str) -> list[Any]:
        return list(self.members.get(tenant_id, []))

    def recipients(self, user_ids: Sequence[str]) -> dict[str, Any]:
        return {u: self.people[u] for u in user_ids if u in self.people}

    def platform_admins(self) -> list[Any]:
        return list(self.admins)

    def preferences(self, user_id: str) -> Any:
        from mamba.domain.notifications import Preferences

        return self.prefs.get(user_id, Preferences())

    def save_preferences(self, user_id: str, preferences: Any, at: str) -> None:
        self.prefs[user_id] = preferences

    def add(self, user_id: str, notification: Any, expires_at: int) -> bool:
        if self.fail_add:
            raise DependencyUnavailableError("The notification could not be saved; try again.")
        mine = self.items.setdefault(user_id, {})
        if notification.id in mine:
            return False
        mine[notification.id] = notification
        self.unread[user_id] = self.unread.get(user_id, 0) + 1
        return True

    def listing(self, user_id: str, page: Any, *, unread_only: bool) -> Any:
        from mamba.domain.pages import Page

        found = sorted(self.items.get(user_id, {}).values(), key=lambda n: (n.occurred_at, n.id), reverse=True)
        if unread_only:
            found = [n for n in found if n.read_at is None]
        return Page(items=found[: page.limit], next_cursor=None)

    def mark_read(self, user_id: str, ids: Sequence[str], at: str) -> int:
        from dataclasses import replace as _replace

        changed = 0
        mine = self.items.get(user_id, {})
        for event_id in ids:
            n = mine.get(event_id)
            if n is not None and n.read_at is None:
                mine[event_id] = _replace(n, read_at=at)
                self.unread[user_id] -= 1
                changed += 1
        return changed

    def mark_all_read(self, user_id: str, at: str) -> int:
        return self.mark_read(user_id, list(self.items.get(user_id, {})), at)

    def claim_mail(self, event_id: str, user_id: str, expires_at: int) -> bool:
        if (event_id, user_id) in self.claims:
            return False
        self.claims.add((event_id, user_id))
        return True

    def release_mail(self, event_id: str, user_id: str) -> None:
        self.claims.discard((event_id, user_id))

    def forget(self, user_id: str) -> int:
        self.prefs.pop(user_id, None)
        self.unread.pop(user_id, None)
        return len(self.items.pop(user_id, {}))


class FakeServiceAccountRepository:
    """``DynamoServiceAccountRepository`` in memory, over a FakeApiKeyRepository (a service
    account's keys are API keys it owns). Keeps the adapter's conditions: a binding changed or
    deleted only from the role read, a key added only from the ``keys_version`` read, one
    expiry notice per key. ``expiry_days`` holds (tenant, account name) of each key with an expiry."""

    def __init__(self, keys: FakeApiKeyRepository | None = None) -> None:
        self.keys = keys or FakeApiKeyRepository()
        self.accounts: dict[tuple[str, str], Any] = {}
        self.owners: dict[str, tuple[str, str]] = {}  # key id -> (tenant, account name)
        self.notified: dict[str, str] = {}

    def add(self, account: Any, role_version: int | None) -> None:
        key = (account.tenant_id, account.id)
        if key in self.accounts:
            raise ConflictError("The service account or its role changed meanwhile; try again.", {})
        self.accounts[key] = account

    def get(self, tenant_id: str, service_account_id: str) -> Any:
        found = self.accounts.get((tenant_id, service_account_id))
        if found is None:
            raise NotFoundError("Service account not found.", {"service_account_id": service_account_id})
        return found

    def list_accounts(self, tenant_id: str, page: Any) -> Any:
        mine = sorted((a for (t, _), a in self.accounts.items() if t == tenant_id), key=lambda a: a.id)
        return _page(mine, page, f"service-accounts:{tenant_id}")

    def update(self, current: Any, updated: Any, role_version: int | None) -> None:
        stored = self.accounts.get((current.tenant_id, current.id))
        if stored is None or stored.role != current.role:
            raise ConflictError("The service account or its role changed meanwhile; try again.", {})
        self.accounts[(current.tenant_id, current.id)] = replace(updated, keys_version=stored.keys_version)

    def delete(self, current: Any) -> None:
        stored = self.accounts.get((current.tenant_id, current.id))
        if stored is None or stored.role != current.role:
            raise ConflictError("The service account or its role changed meanwhile; try again.", {})
        del self.accounts[(current.tenant_id, current.id)]

    def all_keys(self, service_account_id: str) -> list[Any]:
        mine = [k for k in self.keys.keys.values() if k.user_id == service_account_id]
        return sorted(mine, key=lambda k: (k.created_at, k.id), reverse=True)

    def list_keys(self, tenant_id: str, service_account_id: str, limit: int, cursor: str | None) -> Any:
        from mamba.domain.api_keys import KeyPage
        from mamba.domain.pages import PageRequest

        mine = [k for k in self.all_keys(service_account_id) if self.owners.get(k.id, ("", ""))[0] == tenant_id]
        found = _page(mine, PageRequest(max(1, min(limit, 100)), cursor), f"sa_keys:{service_account_id}")
        return KeyPage(items=found.items, next_cursor=found.next_cursor)

    def add_key(self, account: Any, key: Any) -> None:
        stored = self.accounts.get((account.tenant_id, account.id))
        if stored is None or stored.keys_version != account.keys_version:
            raise ConflictError("Another key was created for this service account at the same time; try again.", {})
        self.keys.add(key)
        self.accounts[(account.tenant_id, account.id)] = replace(stored, keys_version=stored.keys_version + 1)
        self.owners[key.id] = (account.tenant_id, account.name)

    def expiring_keys(self, days: list[str]) -> list[Any]:
        from datetime import UTC, datetime

        from mamba.domain.service_accounts import ExpiringKey

        found = []
        for key_id, (tenant_id, name) in self.owners.items():
            key = self.keys.keys[key_id]
            if key.expires_at is None or key.revoked_at is not None or key_id in self.notified:
                continue
            if datetime.fromtimestamp(key.expires_at, UTC).date().isoformat() in days:
                found.append(ExpiringKey(key, tenant_id, key.user_id, name))
        return found

    def claim_expiry_notice(self, key_id: str, at: str) -> bool:
        if key_id in self.notified:
            return False
        self.notified[key_id] = at
        return True

    def release_expiry_notice(self, key_id: str) -> None:
        self.notified.pop(key_id, None)


# --- sign-in with an identity provider (issue 17, docs/oauth.md) ------------------------------------


class FakeOAuthStore:
    """``DynamoOAuthStore`` in memory: single-use states and tickets, identities with a claim per
    (provider, subject); ``users`` is the account store a created account goes into."""

    def __init__(self, users: FakeUserRepository | None = None) -> None:
        from mamba.domain.oauth import Identity, OAuthState, Ticket

        self.users = users or FakeUserRepository()
        self.states: dict[str, OAuthState] = {}
        self.tickets: dict[str, Ticket] = {}
        self.identities: dict[tuple[str, str], Identity] = {}

    def put_state(self, digest: str, state: Any) -> None:
        if digest in self.states:
            raise ConflictError("state exists")
        self.states[digest] = state

    def take_state(self, digest: str) -> Any:
        return self.states.pop(digest, None)

    def put_ticket(self, digest: str, ticket: Any) -> None:
        if digest in self.tickets:
            raise ConflictError("ticket exists")
        self.tickets[digest] = ticket

    def get_ticket(self, digest: str) -> Any:
        return self.tickets.get(digest)

    def take_ticket(self, digest: str) -> Any:
        return self.tickets.pop(digest, None)

    def find(self, provider: str, subject: str) -> Any:
        return self.identities.get((provider, subject))

    def link(self, identity: Any) -> None:
        self.users.get(identity.user_id)
        if (identity.provider, identity.subject) in self.identities:
            raise ConflictError("This provider account is linked to another account.", {"reason": "identity_taken"})
        self.identities[(identity.provider, identity.subject)] = identity

    def create_user_with_identity(self, user: User, identity: Any) -> None:
        if (identity.provider, identity.subject) in self.identities:
            raise ConflictError("This provider account is linked to another account.", {"reason": "identity_taken"})
        self.users.add(user)
        self.identities[(identity.provider, identity.subject)] = identity

    def list_for_user(self, user_id: str) -> list[Any]:
        return [i for i in self.identities.values() if i.user_id == user_id]

    def unlink(self, identity: Any) -> None:
        current = self.identities.get((identity.provider, identity.subject))
        if current is not None and current.user_id == identity.user_id:
            del self.identities[(identity.provider, identity.subject)]

    def touch(self, identity: Any, at: str) -> None:
        key = (identity.provider, identity.subject)
        if key in self.identities:
            self.identities[key] = replace(self.identities[key], last_used_at=at)


class FakeIdentityProvider:
    """A provider that signs in whoever ``profile`` names (or raises ``refuse``); it records what
    the flow sent it (the PKCE verifier it issued, the nonce, the code) so tests can check them."""

    def __init__(self, provider: str = "google", **profile: Any) -> None:
        from mamba.domain.oauth import ExternalProfile

        self.id = provider
        fields = {"subject": "sub-1", "email": "ada@example.com", "email_verified": True, "name": "Ada", **profile}
        self.next = ExternalProfile(provider=provider, **fields)
        self.refuse: Exception | None = None
        self.authorized: list[dict[str, str]] = []
        self.exchanged: list[dict[str, str]] = []

    def authorize(self, *, redirect_uri: str, state: str, nonce: str) -> tuple[str, str]:
        verifier = f"verifier-{len(self.authorized)}-{state[:8]}"
        self.authorized.append({"redirect_uri": redirect_uri, "state": state, "nonce": nonce, "verifier": verifier})
        return f"https://{self.id}.example/authorize?state={state}", verifier

    def profile(self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> Any:
        self.exchanged.append({"code": code, "redirect_uri": redirect_uri, "verifier": code_verifier, "nonce": nonce})
        if self.refuse is not None:
            raise self.refuse
        return self.next


class FakePteroIds:
    """``DynamoPteroIds`` in memory: one counter per kind, numbers never reused, every side of an
    id (object, number, external id, server identifier) kept as the adapter keeps them."""

    def __init__(self) -> None:
        from mamba.domain.pterodactyl import IdRef

        self._IdRef = IdRef
        self.counters: dict[str, int] = {}
        self.by_ref: dict[tuple[str, str], Any] = {}
        self.by_num: dict[tuple[str, int], Any] = {}
        self.by_ext: dict[tuple[str, str], Any] = {}
        self.identifiers: dict[str, Any] = {}

    def number(self, kind: str, ref: str, scope: str | None = None) -> Any:
        found = self.by_ref.get((kind, ref))
        return found if found is not None else self._claim(kind, ref, scope)

    def numbers(self, kind: str, refs: Mapping[str, str | None]) -> dict[str, Any]:
        return {ref: self.number(kind, ref, scope) for ref, scope in refs.items()}

    def by_number(self, kind: str, number: int) -> Any:
        return self.by_num.get((kind, number))

    def by_external(self, kind: str, external_id: str) -> Any:
        return self.by_ext.get((kind, external_id))

    def by_identifier(self, identifier: str) -> Any:
        return self.identifiers.get(identifier.lower())

    def set_external(self, ref: Any, external_id: str | None) -> Any:
        if ref.external_id == external_id:
            return ref
        if (ref.kind, ref.ref) not in self.by_ref:
            raise ConflictError("The id changed meanwhile; try again.", {"kind": ref.kind})
        if external_id is not None and (ref.kind, external_id) in self.by_ext:
            raise ConflictError(
                "Another object already has this external id.", {"field": "external_id", "external_id": external_id}
            )
        updated = replace(ref, external_id=external_id)
        self._store(updated)
        if ref.external_id is not None:
            self.by_ext.pop((ref.kind, ref.external_id), None)
        if external_id is not None:
            self.by_ext[(ref.kind, external_id)] = updated
        return updated

    def forget(self, ref: Any) -> None:
        from mamba.domain.pterodactyl import short_identifier

        self.by_ref.pop((ref.kind, ref.ref), None)
        self.by_num.pop((ref.kind, ref.number), None)
        if ref.external_id is not None:
            self.by_ext.pop((ref.kind, ref.external_id), None)
        if ref.kind == "server":
            short = short_identifier(ref.ref)
            if self.identifiers.get(short) is not None and self.identifiers[short].ref == ref.ref:
                del self.identifiers[short]

    def _store(self, ref: Any) -> None:
        from mamba.domain.pterodactyl import short_identifier

        self.by_ref[(ref.kind, ref.ref)] = ref
        self.by_num[(ref.kind, ref.number)] = ref
        if ref.kind == "server":
            short = short_identifier(ref.ref)
            holder = self.identifiers.get(short)
            if holder is None or holder.ref == ref.ref:
                self.identifiers[short] = ref

    def _claim(self, kind: str, ref: str, scope: str | None) -> Any:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        winner = self.by_ref.get((kind, ref))
        if winner is not None:  # another caller claimed it first: its id stands, this number is skipped
            return winner
        claimed = self._IdRef(kind=kind, ref=ref, number=self.counters[kind], scope=scope)
        self._store(claimed)
        return claimed


class FakePteroRecords:
    """``DynamoPteroRecords`` in memory: plain-value records per kind and ref."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, dict[str, Any]]] = {}

    def get(self, kind: str, ref: str) -> dict[str, Any] | None:
        found = self.records.get(kind, {}).get(ref)
        return dict(found) if found is not None else None

    def get_many(self, kind: str, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
        mine = self.records.get(kind, {})
        return {r: dict(mine[r]) for r in refs if r in mine}

    def list(self, kind: str) -> dict[str, dict[str, Any]]:
        return {r: dict(v) for r, v in sorted(self.records.get(kind, {}).items())}

    def add(self, kind: str, ref: str, values: Mapping[str, Any]) -> None:
        if ref in self.records.get(kind, {}):
            raise ConflictError("The name is taken.", {"kind": kind, "ref": ref})
        self.put(kind, ref, values)

    def put(self, kind: str, ref: str, values: Mapping[str, Any]) -> None:
        self.records.setdefault(kind, {})[ref] = dict(values)

    def delete(self, kind: str, ref: str) -> None:
        self.records.get(kind, {}).pop(ref, None)
