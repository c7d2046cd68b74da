"""`make run`'s seeded node: node_local's config.yml, its Wings simulator, and `mamba node config`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests
import yaml

from tests.e2e.conftest import ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _config(stack: Stack) -> dict:
    return yaml.safe_load((stack.local_dir / "wings" / "config.yml").read_text())


def test_stack_file_lists_the_simulator_when_the_stack_is_ready(stack: Stack, http: requests.Session) -> None:
    # Given the seeded node's config.yml, written private by the launcher
    config = _config(stack)
    path = stack.local_dir / "wings" / "config.yml"
    assert path.stat().st_mode & 0o077 == 0
    # When the node URL from stack.json is asked for its system info, without and with the node token
    (url,) = stack.info["wings"]
    anonymous = http.get(f"{url}/api/system", timeout=10)
    authorized = http.get(f"{url}/api/system", headers={"Authorization": f"Bearer {config['token']}"}, timeout=10)
    # Then the simulator booted against this panel and serves the daemon API with the node's token
    assert url == f"http://127.0.0.1:{config['api']['port']}"
    assert config["remote"] == stack.api
    assert anonymous.status_code == 401
    assert authorized.status_code == 200, authorized.text


def test_mamba_node_config_prints_the_same_token_when_run_against_the_stack(stack: Stack) -> None:
    # When the ops CLI renders node_local's config from the stack's moto
    env = {
        **os.environ,
        "MAMBA_ENV": "local",
        "MAMBA_LOCAL_SECRETS_FILE": str(stack.local_dir / "secrets.env"),
        "MAMBA_PUBLIC_URL": stack.api,
        "AWS_ENDPOINT_URL": stack.aws,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": "us-east-1",
        "KMS_KEY_ID": "alias/mamba-node-tokens",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
    }
    shown = subprocess.run(
        [sys.executable, "-m", "mamba.cli", "node", "config", "node_local"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    # Then it is the document the simulator runs with, data directory aside
    assert shown.returncode == 0, shown.stderr
    printed, running = yaml.safe_load(shown.stdout), _config(stack)
    assert (printed["token_id"], printed["token"], printed["uuid"]) == (
        running["token_id"],
        running["token"],
        running["uuid"],
    )
    assert printed["system"]["data"] == "/var/lib/pterodactyl/volumes"
    assert running["system"]["data"] == str(stack.local_dir / "wings" / "volumes")
