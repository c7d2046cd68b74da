"""The built package: cfn-lint clean, a byte-compiled layer, and every Lambda handler
importable from the unpacked zips alone (no repository, no virtualenv on the path)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from functions.tasks import TASKS
from infra import template as cfn
from infra.build import BuildResult, describe_finding
from tests.packaging.conftest import Unpacked

pytestmark = [pytest.mark.xdist_group("package"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = [cfn.API_HANDLER, *cfn.task_logical_ids().values()]

# Runs in a fresh interpreter with -I -S -B: no PYTHON* variables, no site-packages, no
# bytecode written. Only the unpacked task and layer folders are put on sys.path.
_IMPORT_PROBE = """
import importlib, importlib.util, json, sys
task_root, layer_root, target = sys.argv[1:4]
sys.path[:0] = [task_root, layer_root]
module_name, _, attr = target.rpartition(".") if ":" not in target else target.partition(":")
report = {"imported": False, "resolved": False}
try:
    module = importlib.import_module(module_name)
    report["imported"] = True
    report["resolved"] = callable(getattr(module, attr, None))
except Exception as exc:
    report["error"] = f"{type(exc).__name__}: {exc}"
report["origins"] = {
    name: getattr(sys.modules.get(name), "__file__", None)
    for name in ("app", "chalice", "mamba", "functions", "pydantic", "boto3", "pynamodb")
    if name in sys.modules
}
config = sys.modules.get("mamba.config")
report["config_pyc"] = bool(config) and __import__("os").path.exists(importlib.util.cache_from_source(config.__file__))
report["loaded"] = sorted(m for m in ("stripe", "aws_xray_sdk") if m in sys.modules)
print(json.dumps(report))
"""


@cache
def _probe(task_root: Path, layer_root: Path, target: str) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "MAMBA_ENV": "test",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "MAMBA_LOCAL_SECRETS_FILE": os.devnull,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", _IMPORT_PROBE, str(task_root), str(layer_root), target],
        cwd=task_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def _handler(package: BuildResult, logical_id: str) -> str:
    template = json.loads(package.template.read_text())
    return str(template["Resources"][logical_id]["Properties"]["Handler"])


def test_merged_template_has_no_cfn_lint_errors_when_packaged(package: BuildResult) -> None:
    # Given the merged template chalice package wrote
    # When cfn-lint checked it (the build runs it)
    # Then it reported no error
    assert package.lint_errors == [], "\n".join(describe_finding(f) for f in package.lint_errors)


def test_layer_is_byte_compiled_when_packaged(package: BuildResult) -> None:
    with zipfile.ZipFile(package.layer_zip) as layer:
        names = layer.namelist()
        pyc = [n for n in names if n.endswith(".pyc")]
        header = layer.read(next(n for n in pyc if n.endswith("mamba/__pycache__/config.cpython-312.pyc")))
    sources = [n for n in names if n.endswith(".py")]
    # Every module, ours and the dependencies', has its bytecode next to it.
    assert len(pyc) >= len(sources) > 1000
    for package_name in ("mamba", "functions", "pydantic", "botocore", "aws_lambda_powertools"):
        assert any(f"/{package_name}/__pycache__/" in n for n in pyc), package_name
    # Unchecked hash-based pycs (PEP 552 flags = 0b01): valid whatever the zip did to mtimes.
    assert int.from_bytes(header[4:8], "little") == 0b01


def test_function_zip_holds_only_the_app_when_packaged(package: BuildResult) -> None:
    with zipfile.ZipFile(package.deployment_zip) as function_zip:
        names = set(function_zip.namelist())
    assert {"app.py", "__pycache__/app.cpython-312.pyc", "chalice/app.py"} <= names
    assert not any(n.startswith(("mamba/", "functions/")) for n in names)


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_handler_module_imports_from_the_zips_alone_when_unpacked(
    package: BuildResult, unpacked: Unpacked, logical_id: str
) -> None:
    # Given the function zip and the layer unpacked into an empty folder
    handler = _handler(package, logical_id)
    # When a fresh interpreter with nothing else on its path imports the handler's module
    report = _probe(unpacked.task_root, unpacked.layer_root, handler)
    # Then it imports, from those folders only, with precompiled bytecode and no eager billing/tracing
    assert report["imported"], report.get("error")
    for name, origin in report["origins"].items():
        assert origin and origin.startswith(str(unpacked.task_root.parent.parent)), (name, origin)
    assert report["config_pyc"]
    assert report["loaded"] == []


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_handler_attribute_resolves_when_unpacked(package: BuildResult, unpacked: Unpacked, logical_id: str) -> None:
    # Lambda imports the module of Handler and takes the attribute after the last dot.
    handler = _handler(package, logical_id)
    report = _probe(unpacked.task_root, unpacked.layer_root, handler)
    assert report["resolved"], f"{logical_id}: Handler {handler!r} does not name a callable in the package"


@pytest.mark.parametrize("function_name", sorted(TASKS))
def test_task_module_imports_from_the_zips_alone_when_unpacked(unpacked: Unpacked, function_name: str) -> None:
    report = _probe(unpacked.task_root, unpacked.layer_root, TASKS[function_name])
    assert report["imported"], report.get("error")
    assert report["resolved"], f"{TASKS[function_name]} is not callable"


def test_functions_get_their_environment_from_the_merged_template(package: BuildResult) -> None:
    template = json.loads(package.template.read_text())
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["MAMBA_ENV"] == "deployed"
    assert env["MAMBA_SECRETS_ID"] == {"Ref": cfn.SECRET}
    assert env["TABLE_MAIN"] == {"Ref": "MainTable"}
    for logical_id in FUNCTIONS:
        own = template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
        assert "MAMBA_ENV" not in own, f"{logical_id} would override MAMBA_ENV=deployed"


def test_unknown_route_answers_the_error_shape_when_deployed(package: BuildResult) -> None:
    template = json.loads(package.template.read_text())
    body = template["Resources"][cfn.REST_API]["Properties"]["DefinitionBody"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    rendered = json.loads(missing["responseTemplates"]["application/json"].replace("$context.requestId", "req-1"))
    assert missing["statusCode"] == "404"
    assert rendered == {
        "error": {"code": "NOT_FOUND", "message": "No such route.", "details": {}},
        "request_id": "req-1",
    }
    assert body["paths"], "Chalice's routes survived the merge"
