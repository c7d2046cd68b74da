"""What a node asks and reports about installing its servers (wings-contract.md §5.5-§5.7):
the install script, the install's result, the reset after a reboot, and transfer results.

Raises ValidationError (a malformed report), NotFoundError (a server not on the calling
node) and ConflictError (a transfer result while no transfer runs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mamba.domain import servers as srv
from mamba.domain.errors import ConflictError, ValidationError
from mamba.domain.nodes import Node
from mamba.domain.servers import Server
from mamba.services import task_waits
from mamba.services.remote_auth import ServerStore, server_of_node
from mamba.services.remote_servers import BlueprintSource
from mamba.services.task_waits import Outcome, WaitPorts

Clock = Callable[[], str]


def install_script(node: Node, server_uuid: str, servers: ServerStore, blueprints: BlueprintSource) -> dict[str, Any]:
    server = server_of_node(node, server_uuid, servers)
    blueprint = blueprints.runtime(server.blueprint_id)
    return {
        "container_image": blueprint.install_image,
        "entrypoint": blueprint.install_entrypoint,
        "script": blueprint.install_script.replace("\r\n", "\n"),
    }


def _flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be a boolean.", {"fields": [{"field": name, "message": "not a boolean"}]})
    return value


def report_install(
    node: Node, server_uuid: str, body: Any, servers: ServerStore, clock: Clock, waits: WaitPorts | None = None
) -> Server:
    """Wings finished an install or reinstall: ``{"successful": bool, "reinstall": bool}``.
    The record is saved first, then the workflow waiting on the install (``provision_server``
    or ``reinstall_server``) is resumed with the outcome (mamba.services.task_waits)."""
    if not isinstance(body, dict) or "successful" not in body:
        raise ValidationError("The body must be {successful, reinstall}.")
    successful = _flag(body, "successful")
    _flag(body, "reinstall")
    server = server_of_node(node, server_uuid, servers)
    updated = srv.after_install(server, successful=successful, now=clock())
    servers.save(updated)
    outcome = install_outcome(updated)
    if waits is not None and outcome is not None:
        task_waits.deliver(waits, task_waits.install_subject(server.uuid), outcome)
    return updated


# Statuses the install wait stops at without an install result: the server was taken elsewhere.
_TAKEN = (srv.SUSPENDED, srv.DELETING, srv.FAILED, srv.PROVISIONING)


def install_outcome(server: Server) -> Outcome | None:
    """How a workflow's wait for the install ends, read from the record the install callback
    updates: None while the node installs (``installing``)."""
    if server.status == srv.INSTALLING:
        return None
    if server.status == srv.INSTALL_FAILED:
        return Outcome.failed(
            "InstallFailedError",
            "The blueprint's install script failed on the node; check the blueprint or the server's variables, "
            "then try again.",
        )
    if server.status in _TAKEN:
        return Outcome.failed("ConflictError", f"The server became {server.status} while installing.")
    return Outcome(output={"state": "succeeded"})


def await_install(
    waits: WaitPorts, read_server: Callable[[str], Server], server_uuid: str, token: str, timeout_seconds: int
) -> dict[str, Any]:
    """The ``.waitForTaskToken`` task of ``provision_server`` and ``reinstall_server``: park the
    token until the install callback resumes the workflow (delivered at once if it came first)."""
    return task_waits.park(
        waits,
        task_waits.install_subject(server_uuid),
        token,
        timeout_seconds,
        lambda: install_outcome(read_server(server_uuid)),
    )


def reset(node: Node, servers: ServerStore, clock: Clock) -> int:
    """Wings (re)booted: installs it was running are gone and its servers are stopped.
    Returns how many servers changed."""
    now = clock()
    changed = 0
    for server in servers.on_node(node.id):
        updated = srv.after_reset(server, now=now)
        if updated != server:
            servers.save(updated)
            changed += 1
    return changed


def transfer_result(node: Node, server_uuid: str, servers: ServerStore) -> None:
    """Transfers are not started by this panel yet, so no transfer row exists: 409 as in §5.7."""
    server_of_node(node, server_uuid, servers)
    raise ConflictError("No transfer is in progress for this server.", {"uuid": server_uuid})
