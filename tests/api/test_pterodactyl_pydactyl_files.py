"""py-dactyl 2.1.3, the real client, on a server's files, backups, schedules and subusers in
process: its requests reach the product app through ``chalice.test.Client`` with a ``ptlc_`` key,
and the files live on a real Wings simulator. Every body py-dactyl sends is accepted, and each
answer is what it reads back (the running stack's test is tests/e2e/test_pydactyl.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from pydactyl import PterodactylClient

from mamba import bootstrap
from tests.api.server_world import ServerWorld, server_world
from tests.api.tenancy_helpers import mail_to, verify_sender
from tests.api.test_pterodactyl_pydactyl_application import PANEL, ChaliceAdapter
from tests.fakes import FakeWorkflows
from tests.schedule_support import scheduler_configured

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pterodactyl-pydactyl-files")]

SCOPES = ["servers.read", "servers.console", "servers.power", "files.read", "files.write", "backups.read",
          "backups.create", "schedules.read", "schedules.write", "members.read", "members.manage"]  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[ServerWorld]:
    with server_world(tmp_path_factory.mktemp("pydactyl-files")) as w:
        verify_sender()
        yield w


@pytest.fixture(scope="module")
def dactyl(world: ServerWorld) -> PterodactylClient:
    made = world.client.http.post(
        "/v1/me/api-keys",
        headers=world.headers("alice"),
        body=json.dumps({"name": "py-dactyl", "scopes": SCOPES, "format": "pterodactyl"}),
    )
    assert made.status_code == 201, made.json_body
    api = PterodactylClient(PANEL, made.json_body["key"])
    api._session.mount("http://", ChaliceAdapter(world.client))
    return api


def part(dactyl: PterodactylClient, world: ServerWorld, name: str) -> Any:
    """One of py-dactyl's server APIs (each access makes a new one with a session of its own),
    with its requests handed to the app."""
    found = getattr(dactyl.client.servers, name)
    found._session.mount("http://", ChaliceAdapter(world.client))
    return found


@pytest.fixture(scope="module")
def identifier(world: ServerWorld) -> str:
    """py-dactyl addresses a server by its 8-character identifier (claimed with its integer id)."""
    uuid = world.servers["files"]
    bootstrap.ptero_ids().number("server", uuid, "tn_a")
    return uuid[:8]


def test_files_written_listed_read_renamed_and_deleted(
    dactyl: PterodactylClient, world: ServerWorld, identifier: str
) -> None:
    files = part(dactyl, world, "files")
    files.write_file(identifier, "/motd.txt", "Welcome to Mamba\n")
    files.create_folder(identifier, "plugins")

    listed = files.list_files(identifier)
    names = {entry["attributes"]["name"]: entry["attributes"] for entry in listed["data"]}
    assert names["motd.txt"]["size"] == 17 and names["motd.txt"]["is_file"] is True
    assert names["plugins"]["is_file"] is False
    contents = files.get_file_contents(identifier, "/motd.txt", json=False)
    assert contents.text == "Welcome to Mamba\n"  # the file itself, not JSON

    files.rename_file(identifier, "motd.txt", "plugins/motd.txt")
    files.copy_file(identifier, "/plugins/motd.txt")
    assert sorted(e["attributes"]["name"] for e in files.list_files(identifier, "/plugins")["data"]) == [
        "motd copy.txt",
        "motd.txt",
    ]
    archive = files.compress_files(identifier, ["plugins"])
    assert archive["attributes"]["name"].endswith(".tar.gz")
    files.delete_files(identifier, ["plugins", archive["attributes"]["name"]])
    left = {e["attributes"]["name"] for e in files.list_files(identifier)["data"]}
    assert not left & {"plugins", archive["attributes"]["name"]}
    assert "/upload/file?token=" in files.get_upload_file_url(identifier)


def test_backups_created_listed_and_read(dactyl: PterodactylClient, world: ServerWorld, identifier: str) -> None:
    backups = part(dactyl, world, "backups")
    workflows = FakeWorkflows()
    with bootstrap.override(backup_ports=replace(bootstrap.backup_ports(), workflows=workflows)):
        made = backups.create_backup(identifier)
    uuid = made["attributes"]["uuid"]
    assert made["attributes"]["is_successful"] is False
    assert [w for w, _, _ in workflows.started] == ["backup_server"]

    listed = backups.list_backups(identifier)
    assert [b["attributes"]["uuid"] for b in listed["data"]] == [uuid]
    assert listed["meta"]["backup_count"] == 1
    assert backups.get_backup_detail(identifier, uuid)["attributes"]["uuid"] == uuid


def test_schedules_and_tasks(dactyl: PterodactylClient, world: ServerWorld, identifier: str) -> None:
    schedules = part(dactyl, world, "schedules")
    with scheduler_configured():
        made = schedules.create_schedule(identifier, "Nightly", "0", "4", "*", "*", "*")
        schedule = made["attributes"]["id"]
        # py-dactyl sends the offset as a string
        task = schedules.create_task(identifier, schedule, "command", "say hello", time_offset="5")
        assert (task["attributes"]["payload"], task["attributes"]["time_offset"]) == ("say hello", 5)
        schedules.update_schedule(identifier, schedule, "Nightly restart", "30", "4", "*", "*", "*")

        detail = schedules.get_schedule_details(identifier, schedule)["attributes"]
        assert detail["name"] == "Nightly restart" and detail["cron"]["minute"] == "30"
        assert [t["attributes"]["id"] for t in detail["relationships"]["tasks"]["data"]] == [task["attributes"]["id"]]
        assert [s["attributes"]["id"] for s in schedules.list_schedules(identifier)["data"]] == [schedule]
        schedules.delete_task(identifier, schedule, task["attributes"]["id"])
        schedules.delete_schedule(identifier, schedule)
        assert schedules.list_schedules(identifier)["data"] == []


def test_subusers_invited_changed_and_removed(dactyl: PterodactylClient, world: ServerWorld, identifier: str) -> None:
    users = part(dactyl, world, "users")
    made = users.create_user(identifier, "friend@example.org", ["control.console", "file.read"])
    uuid = made["attributes"]["uuid"]
    assert "control.console" in made["attributes"]["permissions"]
    assert mail_to("friend@example.org")

    changed = users.update_user(identifier, uuid, ["file.read"])
    assert "control.console" not in changed["attributes"]["permissions"]
    assert [u["attributes"]["uuid"] for u in users.list_users(identifier)["data"]] == [uuid]
    assert users.get_user(identifier, uuid)["attributes"]["email"] == "friend@example.org"
    users.delete_user(identifier, uuid)
    assert users.list_users(identifier)["data"] == []
