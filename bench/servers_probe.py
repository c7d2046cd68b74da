"""Child of the ``servers`` bench section (run as ``python -m bench.servers_probe N``).

Builds the same world as the workflow tests: moto with the real ASL and task handlers, the
panel's remote API over HTTP in this process, a Wings simulator subprocess. Then:

* provisions ``N`` servers with ``start_on_completion`` and times each from the create call
  (the API's service function) until the panel's record says ``running``. The workflow uses
  the Settings defaults: it watches the record every 0.1 s for up to PROVISION_WATCH_SECONDS,
  so no Wait state sleeps on the happy path;
* counts the DynamoDB requests reaching moto for one ``GET .../servers/{id}`` and one list
  page, through the real API (the guard's own reads included) and through the service alone.

Prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.probe_env import isolate

isolate()
T0 = "2026-11-25T10:00:00Z"


class DynamoCounter:
    """Counts the DynamoDB requests moto handles (and which actions)."""

    def __init__(self) -> None:
        self.actions: list[str] = []
        self.lock = threading.Lock()

    def install(self) -> None:
        from moto.dynamodb.responses import DynamoHandler

        original = DynamoHandler.call_action
        counter = self

        def counted(handler: Any) -> Any:
            with counter.lock:
                counter.actions.append(str(handler.headers.get("X-Amz-Target", "")).rsplit(".", 1)[-1])
            return original(handler)

        DynamoHandler.call_action = counted  # type: ignore[method-assign]

    def during(self, call: Any) -> tuple[Any, list[str]]:
        start = len(self.actions)
        result = call()
        return result, self.actions[start:]


def main(runs: int) -> dict[str, Any]:
    from local import lambda_dispatch
    from mamba import bootstrap
    from mamba.auth.context import TenantContext
    from mamba.domain.pages import PageRequest
    from mamba.services import servers as service
    from tests.api.tenancy_helpers import add_user, bearer
    from tests.moto_world import world as moto_world
    from tests.server_world import set_plan_quotas
    from tests.statemachines.provision_support import panel_over_http, simulated_node
    from tests.statemachines.test_provision_server import line_blueprint

    counter = DynamoCounter()
    tenant = TenantContext(tenant_id="tn_bench", role="owner", permissions=frozenset())
    moto_world().fresh(workflows=True)  # the panel's tables, bucket and key; every workflow deployed
    lambda_dispatch.install()
    with tempfile.TemporaryDirectory() as tmp:
        bootstrap.dynamo_tables()
        from mamba.adapters.dynamo.tenants import DynamoTenantRepository
        from mamba.services.accounts import Membership, Tenant

        add_user("usr_bench")
        DynamoTenantRepository().add_with_owner(
            Tenant(id=tenant.tenant_id, name="Bench", created_at=T0),
            Membership(tenant_id=tenant.tenant_id, user_id="usr_bench", role="owner", created_at=T0),
        )
        set_plan_quotas(tenant.tenant_id, {"servers": -1, "memory_mb": -1, "disk_mb": -1})
        line_blueprint("bp_line")
        counter.install()
        seconds: list[float] = []
        with (
            panel_over_http() as panel_url,
            simulated_node(Path(tmp), panel_url, ports=range(30000, 30000 + runs), allow_install=("bp_line",)),
        ):
            from functions.api.servers import ports

            repo = bootstrap.server_repository()
            server_id = ""
            for _ in range(runs):
                cmd = service.CreateServer(
                    name="bench", blueprint_id="bp_line", memory_mb=256, disk_mb=512, start_on_completion=True
                )
                started = time.perf_counter()
                server, _op = service.create_server(ports(), tenant, cmd)
                while repo.get(server.uuid).status not in ("running", "failed"):
                    if time.perf_counter() - started > 60:
                        raise RuntimeError("the server did not reach running within 60 s")
                    time.sleep(0.02)
                seconds.append(time.perf_counter() - started)
                if repo.get(server.uuid).status != "running":
                    raise RuntimeError(f"provisioning failed: {repo.get(server.uuid).status_reason}")
                server_id = server.uuid

            headers = {**bearer("usr_bench")}
            from chalice.test import Client

            import app as app_module

            with Client(app_module.app, stage_name="test") as client:
                base = f"/v1/tenants/{tenant.tenant_id}/servers"
                client.http.get(f"{base}/{server_id}", headers=headers)  # warm: lazy modules, caches
                got, api_get = counter.during(lambda: client.http.get(f"{base}/{server_id}", headers=headers))
                listed, api_list = counter.during(lambda: client.http.get(f"{base}?limit=2", headers=headers))
                assert got.status_code == 200 and listed.status_code == 200, (got.body, listed.body)
            _, svc_get = counter.during(lambda: service.get_server(repo, tenant, server_id))
            _, svc_list = counter.during(lambda: service.list_servers(repo, tenant, PageRequest(limit=2)))
    return {
        "provision_seconds": seconds,
        "api_get": api_get,
        "api_list": api_list,
        "service_get": svc_get,
        "service_list": svc_list,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)))
