"""The cost of password hashes: what production uses is the stated cost, and only the test
session (tests/conftest.py) lowers it, through Settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from argon2 import extract_parameters

from infra.template import function_environment
from mamba import bootstrap

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = (2, 64 * 1024, 1)  # passes, KiB, lanes: docs/security.md and docs/accounts.md


def test_deployed_functions_hash_passwords_at_64_mib_and_two_passes():
    # Given the environment the deployed functions get (the template's Globals and Chalice's stages)
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    deployed = {**function_environment(), **stages["dev"]["environment_variables"]}
    assert not [name for name in deployed if name.startswith("ARGON2_")]
    # When the composition root builds its hasher from the Settings such an environment gives
    # (local mode only so the secret comes from the environment; the argon2 fields ignore the mode)
    env = {name: value for name, value in os.environ.items() if not name.startswith("ARGON2_")}
    env.update({"MAMBA_ENV": "local", "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)])})
    code = "from mamba import bootstrap; print(bootstrap.password_hasher().hash('a long enough password'))"
    encoded = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()

    # Then its hashes are argon2id with the production cost
    params = extract_parameters(encoded)
    assert encoded.startswith("$argon2id$")
    assert (params.time_cost, params.memory_cost, params.parallelism) == PRODUCTION


def test_the_test_session_hashes_cheaper_through_settings_only():
    # The suite's many sign-ups and logins use the cheapest cost Settings accepts
    params = extract_parameters(bootstrap.password_hasher().hash("a long enough password"))

    assert (params.time_cost, params.memory_cost, params.parallelism) == (1, 8 * 1024, 1)
    assert (params.time_cost, params.memory_cost) != PRODUCTION[:2]
