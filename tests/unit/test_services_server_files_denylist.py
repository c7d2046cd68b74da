"""The blueprint's denylist across every file operation, on an in-memory node (issue 10,
finding 8): a folder is judged by what it holds and what it would hold, a link by its unknown
target, and nothing refused ever reaches the node."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from mamba.auth.context import TenantContext
from mamba.domain.blueprints import Blueprint
from mamba.domain.errors import FileDeniedError, PullUrlRefusedError
from mamba.domain.nodes import Node
from mamba.domain.permissions import BUILTIN_ROLES
from mamba.services import server_control as control
from mamba.services import server_files as files
from tests.fakes import (
    FakeBlueprintRepository,
    FakeHostResolver,
    FakeNodeRepository,
    FakeServerRepository,
    server_entity,
)

T0 = "2026-11-25T10:00:00Z"
S1 = "11111111-1111-4111-8111-111111111111"
TENANT = TenantContext(tenant_id="tn_a", role="owner", permissions=BUILTIN_ROLES["owner"])
PATTERNS = ("config/license.key", "*.lock", "secret.key", "/protected/")


@dataclass
class Disk:
    """A node's files with folders and symlinks (a trailing "/" marks a folder, "@" a symlink),
    which FakeNodeAgent does not model; every other call is recorded and succeeds."""

    entries: set[str]
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def list_directory(self, server_uuid: str, directory: str = "/") -> list[dict[str, Any]]:
        self.calls.append(("list_directory", directory))
        parent = directory.rstrip("/") or "/"
        return [
            {"name": posixpath.basename(path), "directory": e.endswith("/"), "symlink": e.endswith("@"), "size": 1}
            for e in self.entries
            if posixpath.dirname(path := e.rstrip("/@")) == parent
        ]

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args))
            return b"x" if name == "read_file" else {"identifier": "i"} if name == "pull" else {}

        return call

    def changed(self) -> list[str]:
        return [name for name, _ in self.calls if name != "list_directory"]


def ports(disk: Disk, patterns: tuple[str, ...] = PATTERNS, resolver: Any = None) -> control.Ports:
    servers, nodes = FakeServerRepository(), FakeNodeRepository()
    servers.add(server_entity(S1, "n1", "offline", tenant_id="tn_a", created_at=T0))
    nodes.add(
        Node(id="n1", uuid="u", name="n1", fqdn="n.example", token_id="t" * 16, created_at=T0, updated_at=T0), "k" * 64
    )
    blueprint = Blueprint(name="b", startup="run", docker_images={"d": "img"}, file_denylist=patterns, id="bp")
    return control.Ports(
        servers=servers,
        nodes=nodes,
        agent_for=lambda node: disk,
        blueprints=FakeBlueprintRepository(blueprint),
        issuer="https://panel.example",
        resolver=resolver,
    )


TREE = {
    "/config/",
    "/config/license.key",
    "/config/server.yml",
    "/plugins/",
    "/plugins/db/",
    "/plugins/db/session.lock",
    "/plugins/x.jar",
    "/world/",
    "/world/level.dat",
    "/staging/",
    "/staging/license.key",
    "/notes.txt@",
    "/cfglink@",
    "/a.txt",
}


def op(name: str):
    table = {
        "rename": lambda p, a: files.rename(p, TENANT, S1, "/", [a]),
        "copy": lambda p, a: files.copy(p, TENANT, S1, a),
        "delete": lambda p, a: files.delete(p, TENANT, S1, "/", [a]),
        "compress": lambda p, a: files.compress(p, TENANT, S1, "/", [a]),
        "decompress": lambda p, a: files.decompress(p, TENANT, S1, a[0], a[1]),
        "chmod": lambda p, a: files.chmod(p, TENANT, S1, "/", [(a, "777")]),
        "read": lambda p, a: files.read_file(p, TENANT, S1, a),
        "download": lambda p, a: files.download_url(p, TENANT, "u", S1, a),
        "write": lambda p, a: files.write_file(p, TENANT, S1, a, "forged"),
    }
    return table[name]


REFUSED = [
    # (operation, argument, reason in details or None when the path itself is denied)
    ("rename", ("config", "cfg2"), "holds_protected_files"),  # the parent of a named file
    ("rename", ("staging", "config"), "would_create_protected_file"),  # makes config/license.key
    ("rename", ("plugins", "p2"), "holds_protected_files"),  # *.lock found by listing
    ("rename", ("a.txt", "x.lock"), None),
    ("rename", ("a.txt", "protected/a.txt"), None),
    ("copy", "/config/license.key", None),
    ("copy", "/config", "holds_protected_files"),
    ("copy", "/world/level.dat", "would_create_protected_file"),  # with "* copy*" below
    ("delete", "config", "holds_protected_files"),
    ("delete", "plugins", "holds_protected_files"),
    ("delete", "protected", None),
    ("compress", "config", "holds_protected_files"),
    ("compress", "plugins", "holds_protected_files"),
    ("compress", "world", "would_create_archive"),  # with "archive-*" below
    ("decompress", ("/", "old.lock"), None),
    ("decompress", ("/protected", "pack.zip"), None),
    ("chmod", "config", "holds_protected_files"),
    ("chmod", "plugins", "holds_protected_files"),
    ("read", "/notes.txt", "symlink"),
    ("read", "/cfglink/license.key", "symlink"),
    ("read", "/config/license.key", None),
    ("download", "/notes.txt", "symlink"),
    ("write", "/notes.txt", "symlink"),
    ("write", "/cfglink/license.key", "symlink"),
    ("copy", "/notes.txt", "symlink"),
    ("chmod", "notes.txt", "symlink"),
    ("download", "/cfglink/license.key", "symlink"),
]


@pytest.mark.parametrize(("name", "arg", "reason"), REFUSED, ids=[f"{n} {a}" for n, a, _ in REFUSED])
def test_every_file_operation_refuses_a_denied_path_held_or_made(name, arg, reason):
    disk = Disk(set(TREE))
    patterns = PATTERNS
    if reason == "would_create_protected_file" and name == "copy":
        patterns = (*PATTERNS, "* copy*")
    if reason == "would_create_archive":
        patterns, reason = (*PATTERNS, "archive-*"), None

    with pytest.raises(FileDeniedError) as caught:
        op(name)(ports(disk, patterns), arg)

    assert caught.value.status == 403 and caught.value.code == "FILE_DENIED"
    assert caught.value.details.get("reason") == reason
    assert disk.changed() == [], "a refused operation reached the node"


ALLOWED = [
    ("rename", ("world", "world2")),
    ("rename", ("a.txt", "b.txt")),
    ("copy", "/world/level.dat"),
    ("delete", "world"),
    ("compress", "world"),
    ("decompress", ("/", "pack.zip")),
    ("chmod", "world"),
    ("read", "/world/level.dat"),
    ("download", "/config/server.yml"),
    ("write", "/config/server.yml"),
    ("write", "/new/deeper/file.txt"),
    ("rename", ("notes.txt", "notes2.txt")),  # the link itself moves
    ("delete", "notes.txt"),
]


@pytest.mark.parametrize(("name", "arg"), ALLOWED, ids=[f"{n} {a}" for n, a in ALLOWED])
def test_what_holds_nothing_denied_reaches_the_node(name, arg):
    disk = Disk(set(TREE))

    op(name)(ports(disk), arg)

    assert len(disk.changed()) == (0 if name == "download" else 1)  # a download URL is only signed


def test_without_a_denylist_no_folder_is_listed():
    disk = Disk(set(TREE))

    files.rename(ports(disk, ()), TENANT, S1, "/", [("config", "cfg2")])
    files.read_file(ports(disk, ()), TENANT, S1, "/notes.txt")

    assert [n for n, _ in disk.calls] == ["rename", "list_directory", "read_file"]  # read_file's size check


def test_a_folder_too_large_to_check_is_refused():
    deep = {"/big/"} | {f"/big/d{i}/" for i in range(files.MAX_WALK + 5)}
    disk = Disk(deep)

    with pytest.raises(FileDeniedError) as caught:
        files.delete(ports(disk, ("*.lock",)), TENANT, S1, "/", ["big"])

    assert caught.value.details["reason"] == "too_many_folders_to_check"
    assert disk.changed() == []


# --- pull --------------------------------------------------------------------------------------


def test_pull_resolves_through_the_port_and_refuses_before_the_node():
    disk = Disk(set())
    p = ports(
        disk, (), FakeHostResolver({"ok.example": ["93.184.216.34"], "bad.example": ["93.184.216.34", "10.0.0.1"]})
    )

    files.pull(p, TENANT, S1, "https://ok.example/a.zip")
    with pytest.raises(PullUrlRefusedError) as caught:
        files.pull(p, TENANT, S1, "https://bad.example/a.zip")

    assert caught.value.details == {"field": "url", "reason": "private", "host": "bad.example", "address": "10.0.0.1"}
    assert disk.changed() == ["pull"]


def test_pull_without_a_resolver_refuses_host_names():
    disk = Disk(set())

    with pytest.raises(PullUrlRefusedError):
        files.pull(replace(ports(disk, ()), resolver=None), TENANT, S1, "https://ok.example/a.zip")
    assert disk.changed() == []
