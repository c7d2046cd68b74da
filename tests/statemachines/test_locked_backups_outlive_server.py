"""Locked backups outlive their server (issue 18, item 7).

The delete_server workflow runs for real on moto against the Wings simulator; the tenant then
reaches the kept backup through the tenant-level routes (``/v1/tenants/{tid}/backups``):
listed with ``?orphaned=true``, downloadable, refused while locked, deleted with its object and
its bytes once unlocked. The tenant's deletion removes what is left.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mamba import bootstrap
from mamba.domain.errors import NotFoundError
from mamba.services import server_lifecycle as lifecycle
from tests.backup_support import add_member
from tests.statemachines.conftest import Deployed
from tests.statemachines.lifecycle_support import LifecycleWorld, SimNode, build_world, sim_node
from tests.statemachines.test_server_lifecycle_workflows import add_completed_backup, finished, object_exists

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lifecycle-workflows")]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNode]:
    with sim_node(tmp_path_factory.mktemp("orphan-sim")) as node:
        yield node


@pytest.fixture
def world(sim: SimNode, client: Any, deployed_workflows: Deployed) -> Iterator[LifecycleWorld]:
    built = build_world(sim, client)
    yield built
    sim.ensure()
    sim.bridge.client = None


def tenant_with_owner(tenant_id: str, user_id: str) -> dict[str, str]:
    """The tenant record with ``user_id`` as its owner; returns the owner's Authorization header."""
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.auth.tokens import issue_access
    from mamba.domain.accounts import User
    from mamba.domain.tenancy import Membership, Tenant

    now = "2026-12-01T10:00:00Z"
    DynamoUserRepository().add(User(id=user_id, email=f"{user_id}@example.org", created_at=now, email_verified=True))
    DynamoTenantRepository().add_with_owner(
        Tenant(id=tenant_id, name=tenant_id, created_at=now),
        Membership(tenant_id=tenant_id, user_id=user_id, role="owner", created_at=now),
    )
    return {"Authorization": f"Bearer {issue_access(user_id, bootstrap.settings().jwt_secret)}"}


def deleted_server_with_backups(world: LifecycleWorld, deployed: Deployed) -> tuple[Any, Any, Any]:
    """A server with a locked and an unlocked completed backup, deleted by its workflow."""
    server = world.create_installed()
    unlocked = add_completed_backup(server, size=1000)
    locked = add_completed_backup(server, locked=True, size=766)
    _op, execution = finished(deployed, "delete_server", lifecycle.delete_server(world.deps, world.tenant, server.uuid))
    assert execution["status"] == "SUCCEEDED", execution
    return server, unlocked, locked


def test_a_locked_backup_outlives_its_deleted_server_listed_as_orphaned(world, client, deployed_workflows):
    # Given a deleted server that had a locked and an unlocked backup
    server, unlocked, locked = deleted_server_with_backups(world, deployed_workflows)
    headers = tenant_with_owner(world.tenant.tenant_id, "usr_keeper")
    base = f"/v1/tenants/{world.tenant.tenant_id}/backups"

    # When the tenant lists its orphaned backups, and all of them
    orphaned = client.http.get(f"{base}?orphaned=true", headers=headers)
    everything = client.http.get(base, headers=headers)
    attached = client.http.get(f"{base}?orphaned=false", headers=headers)

    # Then only the locked one is left, marked orphaned, still under its (deleted) server's id
    assert orphaned.status_code == 200, orphaned.json_body
    (item,) = orphaned.json_body["items"]
    assert (item["id"], item["server_id"], item["locked"]) == (locked.uuid, server.uuid, True)
    assert item["orphaned_at"] and item["status"] == "completed"
    assert [b["id"] for b in everything.json_body["items"]] == [locked.uuid]
    assert attached.json_body["items"] == []
    with pytest.raises(NotFoundError):
        bootstrap.backup_repository().get(unlocked.uuid)
    assert not object_exists(unlocked.s3_key) and object_exists(locked.s3_key)
    assert bootstrap.backup_repository().usage(world.tenant.tenant_id) == 766
    # and its server's path is gone with the server
    gone = client.http.get(f"/v1/tenants/{world.tenant.tenant_id}/servers/{server.uuid}/backups", headers=headers)
    assert gone.status_code == 404


def test_an_orphaned_backup_is_downloadable_and_deletable_once_unlocked(world, client, deployed_workflows):
    # Given an orphaned locked backup
    _, _, locked = deleted_server_with_backups(world, deployed_workflows)
    headers = tenant_with_owner(world.tenant.tenant_id, "usr_keeper")
    one = f"/v1/tenants/{world.tenant.tenant_id}/backups/{locked.uuid}"

    # When it is downloaded
    download = client.http.get(f"{one}/download", headers=headers)

    # Then the link serves its bytes
    assert download.status_code == 200, download.json_body
    assert requests.get(download.json_body["url"], timeout=10).content == b"x" * 766

    # and while locked it cannot be deleted
    refused = client.http.delete(one, headers=headers)
    assert refused.status_code == 409 and object_exists(locked.s3_key)

    # When it is unlocked and deleted
    unlocked = client.http.post(f"{one}/unlock", headers=headers, body=json.dumps({}))
    assert unlocked.status_code == 200 and unlocked.json_body["locked"] is False
    deleting = client.http.delete(one, headers=headers)
    assert deleting.status_code == 202, deleting.json_body
    execution = deployed_workflows.wait(
        deployed_workflows.execution_arn("delete_backup", deleting.json_body["operation"]["id"]), timeout_s=60
    )

    # Then object, record and its bytes in the tenant's usage are gone
    assert execution["status"] == "SUCCEEDED", execution
    assert not object_exists(locked.s3_key)
    assert client.http.get(one, headers=headers).status_code == 404
    assert bootstrap.backup_repository().usage(world.tenant.tenant_id) == 0


def test_another_tenant_or_a_member_bound_to_another_server_cannot_reach_an_orphaned_backup(
    world, client, deployed_workflows
):
    _, _, locked = deleted_server_with_backups(world, deployed_workflows)
    tenant_with_owner(world.tenant.tenant_id, "usr_keeper")
    outsider = tenant_with_owner("tn_other", "usr_outsider")
    scoped = add_member(world.tenant.tenant_id, "usr_scoped", "operator", server_id=world.create_installed().uuid)

    through_other = client.http.get(f"/v1/tenants/tn_other/backups/{locked.uuid}", headers=outsider)
    scoped_one = client.http.get(f"/v1/tenants/{world.tenant.tenant_id}/backups/{locked.uuid}", headers=scoped)
    scoped_list = client.http.get(f"/v1/tenants/{world.tenant.tenant_id}/backups?orphaned=true", headers=scoped)

    assert through_other.status_code == 404
    assert scoped_one.status_code in (403, 404)
    assert scoped_list.status_code == 403 or scoped_list.json_body["items"] == []
