"""pydantic without plugin discovery (mamba.pydantic_plugins): in fresh interpreters, since the
loader is chosen once per process, before pydantic builds its first validator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
import os
from mamba import pydantic_plugins
replaced = pydantic_plugins.disable(os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__"))
from pydantic import BaseModel, Field

class Probe(BaseModel):
    name: str = Field(min_length=2)

ok = Probe.model_validate({"name": "ab"}).name == "ab"
try:
    Probe.model_validate({"name": "a"})
    refused = False
except Exception:
    refused = True
from pydantic.plugin._loader import get_plugins
print(json.dumps({"replaced": replaced, "ok": ok, "refused": refused, "plugins": len(list(get_plugins())),
                  "metadata": "importlib.metadata" in sys.modules}))
"""


def _probe(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    clean.update(PYTHONPATH=f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT}", **env)
    done = subprocess.run([sys.executable, "-c", _PROBE], env=clean, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_models_build_and_validate_without_importing_the_plugin_scanner_when_no_plugin_is_wanted():
    found = _probe()

    assert found == {"replaced": True, "ok": True, "refused": True, "plugins": 0, "metadata": False}


def test_pydantic_keeps_its_own_loader_when_the_operator_names_a_plugin_to_disable():
    # Given an operator who set PYDANTIC_DISABLE_PLUGINS to one plugin's name (they want the others)
    found = _probe(PYDANTIC_DISABLE_PLUGINS="some-plugin")

    # Then pydantic's own loader scans the entry points as usual
    assert found["replaced"] is False
    assert (found["ok"], found["refused"], found["metadata"]) == (True, True, True)
