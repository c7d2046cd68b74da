"""The cyclic GC waits while a Lambda environment starts (mamba.init_gc), in fresh interpreters:
paused by ``import app`` on Lambda only, resumed (everything made so far frozen) once the first
invocation has been answered."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from bench.coldstart import api_gateway_event

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import gc, json, sys
import app
seen = {"after_import": gc.isenabled()}
seen["status"] = app.app(json.loads(sys.argv[1]), None)["statusCode"]
seen["after_first"] = gc.isenabled()
seen["frozen"] = gc.get_freeze_count()
print(json.dumps(seen))
"""


def _probe(event: dict, *, on_lambda: bool) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT}",
        "MAMBA_ENV": "test",
        "JWT_SECRET": secrets.token_hex(32),
        "MAMBA_LOCAL_SECRETS_FILE": os.devnull,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LOG_LEVEL": "WARNING",
    }
    if on_lambda:
        env["AWS_LAMBDA_FUNCTION_NAME"] = "probe-api"
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(event)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _live() -> dict:
    event = api_gateway_event("tn_x", "none")
    path = "/health/live"
    event.update(resource=path, path=path, pathParameters=None)
    event["headers"].pop("authorization")
    event["multiValueHeaders"].pop("authorization")
    event["requestContext"].update(resourcePath=path, path=f"/api{path}")
    return event


def test_the_gc_waits_during_a_lambda_init_and_resumes_frozen_after_the_first_answer() -> None:
    seen = _probe(_live(), on_lambda=True)

    assert seen["after_import"] is False  # paused through the init
    assert seen["status"] == 200
    assert seen["after_first"] is True and seen["frozen"] > 10_000  # the init's objects, frozen


def test_the_gc_is_never_paused_outside_lambda() -> None:
    seen = _probe(_live(), on_lambda=False)

    # (the interpreter freezes a few hundred objects of its own at start)
    assert seen["after_import"] is True and seen["after_first"] is True and seen["frozen"] < 1_000
