"""The load scenario of ``bench/load.py`` (issue 18 item 4), run by locust against a running local stack.

Locust runs this file in its own process (gevent monkey-patches everything it imports), so it
imports nothing of the panel: the world it plays in (hosts, tokens, tenants, servers) comes
from the JSON file named by ``MAMBA_LOAD_WORLD``, written by ``bench/load.py`` after it has
registered the accounts and created one server per tenant.

Two kinds of simulated user, as a panel sees them:

* ``PanelUser``, almost everyone: a tenant member with the server page open, who lists the
  tenant's servers, opens one, fetches a console token, lists its files and its backups,
  with one to three seconds between clicks.
* ``ChurnUser``, a few (``MAMBA_LOAD_CHURN``, each on a tenant of its own so two never race
  for one tenant's quota): creates a server, follows the operation to its end, deletes the
  server and follows that operation too.

What counts as a failure, beyond locust's own (timeouts, refused or dropped connections):
any 5xx, and any status the step does not expect (a 404 for a server that exists, a 409 on
a create that has room). Each followed workflow's outcome and duration goes to the JSON file
named by ``MAMBA_LOAD_OPERATIONS``; one that does not end ``succeeded`` is a failure too.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from typing import Any

from locust import HttpUser, between, events, task

REQUEST_TIMEOUT_SECONDS = 30
OPERATION_TIMEOUT_SECONDS = 90.0
OPERATION_POLL_SECONDS = 1.0

WORLD: dict[str, Any] = json.loads(open(os.environ["MAMBA_LOAD_WORLD"]).read())
_READERS = itertools.count()
_CHURNERS = itertools.count()
OPERATIONS: list[dict[str, Any]] = []  # one entry per followed create/delete workflow


def _check(response: Any, expected: tuple[int, ...]) -> bool:
    """Mark ``response`` (a locust catch_response context) failed unless its status is expected."""
    status = response.status_code
    if status in expected:
        response.success()
        return True
    if status == 0:
        response.failure(f"no answer: {type(response.error).__name__}")
    elif status >= 500:
        response.failure(f"server error {status}")
    else:
        response.failure(f"unexpected {status} {_code(response)}")
    return False


def _code(response: Any) -> str:
    """The error code of a panel error body, to tell a 403 QUOTA_EXCEEDED from a FORBIDDEN."""
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


class _Member(HttpUser):
    abstract = True
    host = WORLD["api"]

    def use(self, member: dict[str, Any]) -> None:
        self.member = member
        self.headers = {"Authorization": f"Bearer {member['token']}"}
        self.tenant_url = f"/v1/tenants/{member['tenant_id']}"

    def get(self, path: str, name: str, expected: tuple[int, ...] = (200,)) -> Any:
        with self.client.get(
            path, headers=self.headers, name=name, timeout=REQUEST_TIMEOUT_SECONDS, catch_response=True
        ) as response:
            _check(response, expected)
            return response


class PanelUser(_Member):
    """A member browsing the tenant's servers (reads only)."""

    weight = 100
    wait_time = between(1, 3)

    def on_start(self) -> None:
        members = WORLD["members"]
        self.use(members[next(_READERS) % len(members)])
        self.server_url = f"{self.tenant_url}/servers/{self.member['server_id']}"

    @task(6)
    def list_servers(self) -> None:
        self.get(f"{self.tenant_url}/servers", "GET /servers")

    @task(6)
    def get_server(self) -> None:
        self.get(self.server_url, "GET /servers/{sid}")

    @task(3)
    def console_token(self) -> None:
        self.get(f"{self.server_url}/websocket", "GET /servers/{sid}/websocket")

    @task(3)
    def list_files(self) -> None:
        self.get(f"{self.server_url}/files/list", "GET /servers/{sid}/files/list")

    @task(3)
    def list_backups(self) -> None:
        self.get(f"{self.server_url}/backups", "GET /servers/{sid}/backups")


class ChurnUser(_Member):
    """Creates a server now and then and deletes it again, following both operations."""

    fixed_count = int(os.environ.get("MAMBA_LOAD_CHURN", "4"))
    wait_time = between(1, 3)

    def on_start(self) -> None:
        members = WORLD["members"]
        # Churners take the tenants from the end, readers start at the front: every tenant keeps
        # one standing server, and its one free slot (free plan: 2 servers) is this user's alone.
        self.use(members[-1 - next(_CHURNERS) % len(members)])

    @task
    def create_and_delete(self) -> None:
        body = {
            "name": f"load {int(time.time() * 1000) % 10**8}",
            "blueprint_id": WORLD["blueprint_id"],
            "limits": {"memory_mb": 256, "disk_mb": 512},
        }
        with self.client.post(
            f"{self.tenant_url}/servers",
            json=body,
            headers=self.headers,
            name="POST /servers",
            timeout=REQUEST_TIMEOUT_SECONDS,
            catch_response=True,
        ) as created:
            if not _check(created, (202,)):
                return
            payload = created.json()
        server_id, operation_id = payload["server"]["id"], payload["operation"]["id"]
        self.follow(operation_id, "create")
        with self.client.delete(
            f"{self.tenant_url}/servers/{server_id}",
            headers=self.headers,
            name="DELETE /servers/{sid}",
            timeout=REQUEST_TIMEOUT_SECONDS,
            catch_response=True,
        ) as deleted:
            if not _check(deleted, (202,)):
                return
            operation_id = deleted.json()["operation"]["id"]
        self.follow(operation_id, "delete")

    def follow(self, operation_id: str, what: str) -> None:
        """Poll the operation to its end; a failed or unfinished one is a failed ``OP`` row."""
        started = time.perf_counter()
        status = "unknown"
        while time.perf_counter() - started < OPERATION_TIMEOUT_SECONDS:
            time.sleep(OPERATION_POLL_SECONDS)
            polled = self.get(f"{self.tenant_url}/operations/{operation_id}", "GET /operations/{op}")
            if polled.status_code != 200:
                continue
            status = polled.json()["status"]
            if status in ("succeeded", "failed"):
                break
        OPERATIONS.append({"what": what, "status": status, "seconds": round(time.perf_counter() - started, 2)})


@events.quitting.add_listener
def _write_operations(environment: Any, **_: Any) -> None:
    """The workflows' outcomes go to their own file, so that the request percentiles stay
    those of HTTP requests (an operation is many requests and seconds long)."""
    target = os.environ.get("MAMBA_LOAD_OPERATIONS")
    if target:
        with open(target, "w") as handle:
            json.dump(OPERATIONS, handle)
