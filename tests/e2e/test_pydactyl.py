"""py-dactyl, a real Pterodactyl client, against the running local stack (issue 16; docs/pterodactyl-api.md).

What a host's billing system and a customer's bot do, through py-dactyl 2.1.3 unchanged:

* the **application API** with the admin's ``ptla_`` key: create a user, create a server for them on the
  seeded node from a seeded egg (found through the nests), list, get by id and by external id, suspend,
  unsuspend, update the build, delete;
* the **client API** with that user's ``ptlc_`` key: list servers, details and resources, power, a console
  command, list and write files, create and list backups, manage API keys, read the permission table.

One customer and one server for the module (the provision on the simulator is the slow part); the tests
run in file order: the application flow's delete is the last test. Each call's result is checked, not
only its status, and every whole answer py-dactyl hands back goes through ``assert_shape`` (the contract
tests' checker of Pterodactyl's attribute names and types) as the running stack sent it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from pydactyl import PterodactylClient

from tests.contract.pterodactyl_shapes import assert_shape
from tests.e2e.conftest import Stack
from tests.e2e.test_identity_flow import bearer

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

WAIT = 60.0
PASSWORD = "py-dactyl customer password 1"
MOTD = "hello from py-dactyl"


def wait_until(check: Any, what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def _admin_token(stack: Stack) -> str:
    stored = dict(
        line.split("=", 1) for line in (stack.local_dir / "admin.txt").read_text().splitlines() if "=" in line
    )
    login = requests.post(
        f"{stack.api}/v1/auth/login", json={"email": stored["email"], "password": stored["password"]}, timeout=30
    )
    assert login.status_code == 200, login.text
    return str(login.json()["access_token"])


def _status(call: Any) -> int:
    """The HTTP status py-dactyl raised for (it raises ``requests.HTTPError`` for 4xx/5xx but 400/422)."""
    try:
        call()
    except requests.HTTPError as exc:
        return int(exc.response.status_code)
    return 200


@dataclass
class Customer:
    """What the billing system made: the user and their server, as Pterodactyl ids."""

    app: PterodactylClient
    email: str
    name: str
    user_id: int
    user_external_id: str
    server_id: int
    server_external_id: str
    identifier: str
    uuid: str
    egg_id: int
    nest_id: int
    node_id: int


@pytest.fixture(scope="module")
def app(stack: Stack) -> PterodactylClient:
    """py-dactyl on the application API with a key the admin made on /v1/admin/application-keys."""
    rights = dict.fromkeys(("users", "nodes", "allocations", "locations", "servers", "nests", "eggs"), "read-write")
    made = requests.post(
        f"{stack.api}/v1/admin/application-keys",
        json={"name": "py-dactyl e2e", "permissions": rights},
        headers=bearer(_admin_token(stack)),
        timeout=30,
    )
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert key.startswith("ptla_")
    return PterodactylClient(stack.api, key, retries=1)


@pytest.fixture(scope="module")
def customer(stack: Stack, app: PterodactylClient) -> Iterator[Customer]:
    """Application API: create a user, then a server for them from the seeded line server egg, deployed to
    the seeded node's location, and wait until it is installed."""
    seeded = stack.info["pterodactyl"]
    tag = uuid.uuid4().hex[:8]
    email = f"pydactyl-{tag}@example.org"

    # A user, as WHMCS creates one: with its own external id and a password for the customer
    created = app.user.create_user(
        username=f"pydactyl_{tag}",
        email=email,
        first_name="Pat",
        last_name="Dactyl",
        external_id=f"whmcs-client-{tag}",
        password=PASSWORD,
    )
    assert created["object"] == "user", created
    user = created["attributes"]
    assert (user["email"], user["external_id"], user["root_admin"]) == (email, f"whmcs-client-{tag}", False)
    assert isinstance(user["id"], int) and user["id"] > 0
    assert created["meta"]["resource"].endswith(f"/api/application/users/{user['id']}")

    # The seeded egg, found as a client finds it: through the nests and their eggs
    egg_id = seeded["eggs"]["bp_line_server"]
    nests = app.nests.list_nests()
    nest_id = next(
        nest["attributes"]["id"]
        for nest in nests.data
        if any(e["attributes"]["id"] == egg_id for e in app.nests.get_eggs_in_nest(nest["attributes"]["id"])["data"])
    )
    egg = app.nests.get_egg_info(nest_id, egg_id, includes=["variables"])["attributes"]
    assert egg["nest"] == nest_id
    assert {v["attributes"]["env_variable"] for v in egg["relationships"]["variables"]["data"]} >= {"MOTD"}

    # A server for the user, placed by deploy rules on the seeded location (py-dactyl reads the egg's
    # variables, image and startup itself)
    answer = app.servers.create_server(
        name=f"pydactyl {tag}",
        user_id=user["id"],
        nest_id=nest_id,
        egg_id=egg_id,
        memory_limit=256,
        swap_limit=0,
        disk_limit=1024,
        cpu_limit=100,
        backup_limit=2,
        allocation_limit=1,
        location_ids=[seeded["location"]],
        environment={"MOTD": MOTD},
        start_on_completion=False,
        external_id=f"whmcs-service-{tag}",
        description="made by py-dactyl",
    )
    assert answer.status_code == 201, answer.text
    assert_shape("application_server", answer.json())
    server = answer.json()["attributes"]
    assert server["status"] == "installing"
    assert (server["user"], server["egg"], server["nest"], server["node"]) == (
        user["id"],
        egg_id,
        nest_id,
        seeded["node"],
    )
    assert server["container"]["environment"]["MOTD"] == MOTD
    assert server["identifier"] == server["uuid"][:8]

    # Installed once the provision_server workflow and the simulator's install are done
    wait_until(
        lambda: app.servers.get_server_info(server_id=server["id"])["status"] is None, "the server to be installed"
    )
    yield Customer(
        app=app,
        email=email,
        name=f"pydactyl {tag}",
        user_id=user["id"],
        user_external_id=f"whmcs-client-{tag}",
        server_id=server["id"],
        server_external_id=f"whmcs-service-{tag}",
        identifier=server["identifier"],
        uuid=server["uuid"],
        egg_id=egg_id,
        nest_id=nest_id,
        node_id=seeded["node"],
    )


def test_application_api_finds_the_customer_and_suspends_unsuspends_and_resizes_their_server(
    app: PterodactylClient, customer: Customer
) -> None:
    # The user: by filter, by id and by external id
    found = app.user.list_users(email=customer.email)
    assert [u["attributes"]["id"] for u in found.data] == [customer.user_id]
    assert found.meta["pagination"]["total"] == 1
    by_id = app.user.get_user_info(user_id=customer.user_id)
    assert_shape("application_user", by_id)
    assert by_id["attributes"]["email"] == customer.email
    by_external = app.user.get_user_info(external_id=customer.user_external_id)
    assert by_external["attributes"]["id"] == customer.user_id

    # The server: in the list, by id and by external id
    listed = app.servers.list_servers()
    assert customer.server_id in [s["attributes"]["id"] for s in listed.data]
    assert isinstance(listed.meta["pagination"]["total"], int)
    server = app.servers.get_server_info(server_id=customer.server_id)
    assert (server["uuid"], server["user"], server["node"], server["egg"]) == (
        customer.uuid,
        customer.user_id,
        customer.node_id,
        customer.egg_id,
    )
    assert server["limits"]["memory"] == 256 and server["limits"]["disk"] == 1024
    assert server["feature_limits"] == {"databases": 0, "allocations": 1, "backups": 2}
    assert app.servers.get_server_info(external_id=customer.server_external_id)["id"] == customer.server_id

    # Suspend, then unsuspend (each a workflow: the state follows)
    app.servers.suspend_server(customer.server_id)
    wait_until(lambda: app.servers.get_server_info(server_id=customer.server_id)["suspended"] is True, "suspension")
    assert app.servers.get_server_info(server_id=customer.server_id)["status"] == "suspended"
    app.servers.unsuspend_server(customer.server_id)
    wait_until(lambda: app.servers.get_server_info(server_id=customer.server_id)["suspended"] is False, "unsuspension")

    # Update the build: more memory, disk and backups on the same primary allocation
    resized = app.servers.update_server_build(
        customer.server_id,
        allocation_id=server["allocation"],
        memory_limit=512,
        swap_limit=0,
        disk_limit=2048,
        cpu_limit=100,
        io_limit=500,
        database_limit=0,
        allocation_limit=1,
        backup_limit=3,
    )
    assert resized.status_code == 200, resized.text
    wait_until(
        lambda: app.servers.get_server_info(server_id=customer.server_id)["limits"]["memory"] == 512, "the new build"
    )
    after = app.servers.get_server_info(server_id=customer.server_id)
    assert (after["limits"]["disk"], after["feature_limits"]["backups"], after["allocation"]) == (
        2048,
        3,
        server["allocation"],
    )


def test_client_api_drives_the_server_with_the_customers_key(
    stack: Stack, http: requests.Session, customer: Customer
) -> None:
    # Given the customer signs in with the password the billing system set, and makes a ptlc_ key
    login = http.post(f"{stack.api}/v1/auth/login", json={"email": customer.email, "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    made = http.post(
        f"{stack.api}/v1/me/api-keys",
        json={"name": "py-dactyl", "scopes": CLIENT_SCOPES, "format": "pterodactyl"},
        headers=bearer(token),
        timeout=30,
    )
    assert made.status_code == 201, made.text
    assert made.json()["key"].startswith("ptlc_")
    client = PterodactylClient(stack.api, made.json()["key"], retries=1).client
    ref = customer.identifier

    # The server list and the server
    servers = client.servers.list_servers()
    assert [s["attributes"]["identifier"] for s in servers.data] == [ref]
    envelope = client.servers.get_server(ref, detail=True)
    assert_shape("client_server", envelope)
    assert envelope["meta"]["is_server_owner"] is True
    details = envelope["attributes"]
    assert (details["uuid"], details["name"], details["is_installing"]) == (customer.uuid, customer.name, False)
    assert details["server_owner"] is True and details["limits"]["memory"] > 0
    assert client.servers.get_server(customer.uuid)["identifier"] == ref  # by uuid too

    # Power and a console command
    offline = client.servers.get_server_utilization(ref, detail=True)
    assert_shape("client_stats", offline)
    assert offline["attributes"]["current_state"] == "offline"
    client.servers.send_power_action(ref, "start")
    wait_until(lambda: client.servers.get_server_utilization(ref)["current_state"] == "running", "running")
    stats = client.servers.get_server_utilization(ref)
    assert stats["is_suspended"] is False and isinstance(stats["resources"]["memory_bytes"], int)
    client.servers.send_console_command(ref, "say hello pydactyl")
    tenant_id = http.get(f"{stack.api}/v1/tenants", headers=bearer(token), timeout=30).json()["items"][0]["id"]
    logs = f"{stack.api}/v1/tenants/{tenant_id}/servers/{customer.uuid}/logs"
    wait_until(
        lambda: "[Server] hello pydactyl" in http.get(logs, headers=bearer(token), timeout=30).json()["lines"],
        "the command's answer in the console",
    )

    # Files: write, list, read back
    client.servers.files.write_file(ref, "/pydactyl.txt", MOTD)
    listed = client.servers.files.list_files(ref, "/")
    assert_shape("client_file_list", listed)
    entry = next(f["attributes"] for f in listed["data"] if f["attributes"]["name"] == "pydactyl.txt")
    assert (entry["size"], entry["is_file"]) == (len(MOTD), True)
    contents = client.servers.files.get_file_contents(ref, "/pydactyl.txt", json=False)
    assert contents.text == MOTD

    # Backups: create one, see it listed, wait until it is done
    backup = client.servers.backups.create_backup(ref)
    assert_shape("client_backup", backup)
    backup_uuid = backup["attributes"]["uuid"]
    listed_backups = client.servers.backups.list_backups(ref)
    assert backup_uuid in [b["attributes"]["uuid"] for b in listed_backups["data"]]
    done = wait_until(
        lambda: client.servers.backups.get_backup_detail(ref, backup_uuid)["attributes"]["completed_at"], "the backup"
    )
    assert done and client.servers.backups.get_backup_detail(ref, backup_uuid)["attributes"]["is_successful"] is True

    # API keys: make one through the client API, use it, delete it
    new = client.account.api_key_create(description="discord bot", allowed_ips=[])
    assert_shape("client_api_key_created", new)
    identifier = new["attributes"]["identifier"]
    secret = identifier + new["meta"]["secret_token"]  # as Pterodactyl's tools put the key together
    assert identifier.startswith("ptlc_") and new["attributes"]["description"] == "discord bot"
    assert identifier in [k["identifier"] for k in client.account.api_key_list()]
    bot = PterodactylClient(stack.api, secret, retries=1).client
    assert bot.account.get_account()["attributes"]["email"] == customer.email
    client.account.api_key_delete(identifier)
    assert identifier not in [k["identifier"] for k in client.account.api_key_list()]
    assert _status(bot.account.get_account) == 401

    # The permission table
    table = client.servers.list_permissions()
    assert_shape("client_permissions", table)
    assert "console" in table["attributes"]["permissions"]["control"]["keys"]

    # And the server stops
    client.servers.send_power_action(ref, "kill")
    wait_until(lambda: client.servers.get_server_utilization(ref)["current_state"] == "offline", "offline")


def test_application_api_deletes_the_server_then_the_user(app: PterodactylClient, customer: Customer) -> None:
    # When the billing system terminates the service, then the client
    app.servers.delete_server(customer.server_id)
    # Then the server is gone once the delete workflow ran (its id answers 404, as its external id)
    wait_until(lambda: _status(lambda: app.servers.get_server_info(server_id=customer.server_id)) == 404, "deletion")
    assert _status(lambda: app.servers.get_server_info(external_id=customer.server_external_id)) == 404
    app.user.delete_user(user_id=customer.user_id)
    assert _status(lambda: app.user.get_user_info(user_id=customer.user_id)) == 404


# What the customer's bot key holds: api_keys.manage lets it make the narrower keys py-dactyl manages.
CLIENT_SCOPES = [
    "account.read",
    "account.write",
    "api_keys.manage",
    "servers.read",
    "servers.update",
    "servers.power",
    "servers.console",
    "files.read",
    "files.write",
    "backups.read",
    "backups.create",
    "backups.download",
    "backups.delete",
]
