"""In-process checks of the simulator's pieces: path jail, JWT rules, config-file parsers, boot decoding."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import jwt
import pytest
import yaml

from local.blueprints import SIMULATOR_BLUEPRINT_IDS
from local.node_seed import simulator_command
from local.wings_sim.config import ConfigError, NodeConfig
from local.wings_sim.daemon import BootError, Daemon
from local.wings_sim.jail import BadPathError, DeniedFileError, is_denied, resolve
from local.wings_sim.servers import _rewrite, install_allowed
from local.wings_sim.tokens import BadSignatureError, DenyList, TokenError, UniqueIds, parse, websocket_problem
from tests.contract.wings.fake_panel import FakePanel
from tests.contract.wings.harness import random_token

KEY = "k" * 64


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.txt", "a.txt"),
        ("/a.txt", "a.txt"),
        ("//x/./y.txt", "x/y.txt"),
        ("/", ""),
        ("", ""),
        ("/etc/passwd", "etc/passwd"),
    ],
)
def test_resolve_keeps_paths_under_the_root_when_they_are_plain(tmp_path, path, expected):
    assert resolve(tmp_path, path) == Path(os.path.realpath(tmp_path), expected)


@pytest.mark.parametrize("path", ["..", "../x", "a/../../x", "a/..", "x\x00y", "..\\..\\x"])
def test_resolve_refuses_dotdot_and_nul_when_present(tmp_path, path):
    with pytest.raises(BadPathError):
        resolve(tmp_path, path)


def test_resolve_refuses_symlinks_out_of_the_root_but_allows_links_inside_when_followed(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "inside.txt").write_text("ok")
    os.symlink(root / "inside.txt", root / "good")
    os.symlink(outside, root / "bad")
    assert resolve(root, "good").name == "good"
    with pytest.raises(BadPathError):
        resolve(root, "bad/anything.txt")
    with pytest.raises(BadPathError):
        resolve(root, "bad")


def test_denylist_matches_globs_names_and_directories_when_configured(tmp_path):
    assert is_denied("config/secret.key", ["*.key"])
    assert is_denied("plugins/x.jar", ["plugins/"])
    assert not is_denied("server.properties", ["*.key", "plugins/"])
    with pytest.raises(DeniedFileError):
        resolve(tmp_path, "/a/b.key", ["*.key"])


def _token(**claims):
    return jwt.encode(claims, KEY, algorithm="HS256")


def test_parse_accepts_integer_dates_and_rejects_floats_missing_exp_and_expiry_when_checked():
    now = int(time.time())
    assert parse(_token(exp=now + 60, iat=now), KEY)["exp"] == now + 60
    with pytest.raises(BadSignatureError):
        parse(_token(exp=now + 60.5), KEY)
    with pytest.raises(TokenError):
        parse(_token(iat=now), KEY)
    with pytest.raises(TokenError):
        parse(_token(exp=now - 1), KEY)
    with pytest.raises(BadSignatureError):
        parse(jwt.encode({"exp": now + 60}, "other" * 13, algorithm="HS256"), KEY)
    with pytest.raises(BadSignatureError):
        parse(jwt.encode({"exp": now + 60}, KEY, algorithm="HS512"), KEY)


def test_unique_ids_are_single_use_and_missing_ones_share_one_slot_when_consumed():
    ids = UniqueIds()
    assert ids.consume("a") and not ids.consume("a")
    assert ids.consume(None) and not ids.consume("")
    assert ids.consume("a", now=time.time() + 3601)


def test_deny_list_rejects_tokens_issued_up_to_the_same_second_when_denied():
    deny = DenyList()
    deny.deny(["j"], now=1000)
    assert deny.is_denied("j", 999) and deny.is_denied("j", 1000) and not deny.is_denied("j", 1001)
    claims = {"exp": 10**10, "iat": 1000, "jti": "j"}
    assert websocket_problem(claims, boot_time=0, deny=deny) == "jwt: created too far in past (denylist)"
    assert websocket_problem({**claims, "iat": 1001}, boot_time=0, deny=deny) is None
    assert websocket_problem({**claims, "iat": 1001}, boot_time=2000, deny=deny) is not None


def test_config_parsers_replace_values_when_files_exist_or_not(tmp_path):
    props = tmp_path / "server.properties"
    props.write_text("server-port=1\nmotd=hi\nenable-query=false\n")
    _rewrite(
        props,
        "properties",
        [
            {"match": "server-port", "replace_with": 25565},
            {"match": "enable-query", "if_value": "true", "replace_with": "true"},
            {"match": "new-key", "replace_with": True},
        ],
    )
    assert props.read_text().splitlines() == ["server-port=25565", "motd=hi", "enable-query=false", "new-key=true"]
    doc = tmp_path / "c.json"
    _rewrite(doc, "json", [{"match": "server.port", "replace_with": 7777}])
    assert json.loads(doc.read_text()) == {"server": {"port": 7777}}
    conf = tmp_path / "c.yml"
    conf.write_text("a: {b: 1}\n")
    _rewrite(conf, "yaml", [{"match": "a.b", "value": 2}])
    assert yaml.safe_load(conf.read_text()) == {"a": {"b": 2}}
    ini = tmp_path / "c.ini"
    _rewrite(ini, "ini", [{"match": "net.port", "replace_with": 9}])
    assert "[net]" in ini.read_text() and "port = 9" in ini.read_text()
    with pytest.raises(ValueError, match="xml"):
        _rewrite(tmp_path / "c.xml", "xml", [])


def test_config_load_names_missing_keys_when_incomplete(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump({"uuid": "u", "token": "t"}))
    with pytest.raises(ConfigError, match=r"token_id, remote, system.data"):
        NodeConfig.load(path)
    with pytest.raises(ConfigError, match="not found"):
        NodeConfig.load(tmp_path / "missing.yml")


@pytest.mark.parametrize(
    ("egg", "allowed"),
    [
        ({"id": "bp_line_server", "file_denylist": []}, True),
        ({"id": "bp_command_runner"}, True),
        ({"id": "bp_imported_paper"}, False),  # an imported egg, whatever the panel says about it
        ({"id": "bp_imported_paper", "local_safe": True}, False),  # the retired flag counts for nothing
        ({}, False),
        (None, False),
        ("bp_line_server", False),
    ],
)
def test_install_runs_only_for_the_simulators_own_eggs_when_nothing_else_is_allowed(egg, allowed):
    assert install_allowed({"egg": egg}, SIMULATOR_BLUEPRINT_IDS) is allowed


def test_install_allowlist_is_the_local_seeds_eggs_plus_the_command_lines_and_survives_a_pushed_update(tmp_path):
    # Given a node config as the simulator loads it, with one egg allowed on the command line
    path = tmp_path / "config.yml"
    path.write_text(
        yaml.safe_dump({"uuid": "u", "token_id": "i", "token": "t", "remote": "http://p", "system": {"data": "d"}})
    )
    config = NodeConfig.load(path)
    assert config.install_eggs == SIMULATOR_BLUEPRINT_IDS
    config.install_eggs = SIMULATOR_BLUEPRINT_IDS | {"bp_mine"}
    # When the panel pushes a configuration (POST /api/update), which knows nothing of the allowlist
    config.update({"token": "rotated", "install_eggs": ["bp_evil"]})
    # Then the allowlist is the simulator's as before
    assert config.token == "rotated"
    assert config.install_eggs == SIMULATOR_BLUEPRINT_IDS | {"bp_mine"}


def test_local_stack_passes_each_egg_in_local_wings_allow_install_to_the_simulator_when_set(tmp_path):
    config = tmp_path / "config.yml"
    assert "--allow-install" not in simulator_command(config, {})
    command = simulator_command(config, {"LOCAL_WINGS_ALLOW_INSTALL": "bp_a, bp_b,,"})
    assert command[-4:] == ["--allow-install", "bp_a", "--allow-install", "bp_b"]


class StringMetaPanel(FakePanel):
    def page(self, query):
        body = super().page(query)
        body["meta"]["last_page"] = str(body["meta"]["last_page"])
        return body


def test_boot_fails_when_meta_is_not_an_integer(tmp_path):
    # Given a panel whose meta.last_page is the string "1" (§5.3: Wings aborts the boot)
    panel = StringMetaPanel(token_id=random_token(16), token=random_token(64)).start()
    try:
        raw = {"uuid": "n", "token_id": panel.token_id, "token": panel.token, "remote": panel.url}
        config = NodeConfig.from_mapping({**raw, "system": {"data": str(tmp_path)}}, base=tmp_path)

        async def boot():
            daemon = Daemon(config)
            try:
                await daemon.boot()
            finally:
                await daemon.shutdown()

        # Then the boot stops with a BootError instead of retrying forever
        with pytest.raises(BootError, match="last_page"):
            asyncio.run(boot())
    finally:
        panel.stop()
