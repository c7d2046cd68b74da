"""The Tracer is opt-in for real: in a fresh interpreter (a Lambda's init), a task invocation
through the app's middleware loads the X-Ray SDK only when MAMBA_TRACING is on, and answers the
same either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys, types
import app
from mamba import observability
event = types.SimpleNamespace(
    to_dict=lambda: {"correlation_id": "req-probe", "action": "noop"},
    context=types.SimpleNamespace(aws_request_id="lambda-probe", function_name="task_probe"),
)
seen = []
result = observability.lambda_middleware(event, lambda e: seen.append(observability.current_request_id()) or "done")
print(json.dumps({"result": result, "seen": seen, "xray": "aws_xray_sdk" in sys.modules}))
"""


@pytest.mark.parametrize(("tracing", "loads_xray"), [("false", False), ("true", True)])
def test_a_task_invocation_loads_the_x_ray_sdk_only_when_tracing_is_on(tracing: str, loads_xray: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        PYTHONPATH=f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT}",
        MAMBA_TRACING=tracing,
        # Outside Lambda the SDK would complain that no segment is open; Powertools' own switch
        # keeps the Tracer's wrapping but sends nothing.
        POWERTOOLS_TRACE_DISABLED="true",
    )
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {"result": "done", "seen": ["req-probe"], "xray": loads_xray}
