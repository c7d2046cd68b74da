"""Build the deployable package: ``python -m infra.build`` (run by ``make package``).

1. **Stage** a clean ``build/stage/``: ``app.py``, ``.chalice/config.json``, a
   ``requirements.txt`` pinned from ``requirements.lock`` (the runtime closure of
   pyproject's dependencies, without chalice, which Chalice adds itself), and ``vendor/``
   with the ``functions`` package and ``mamba`` (static assets included). Chalice packages
   only ``app.py``, ``chalicelib/`` and ``vendor/``; with ``automatic_layer`` the
   requirements and ``vendor/`` become the managed layer.
2. **Merge template** ``build/merge.json`` from ``infra.template``.
3. **chalice package** ``--stage dev --merge-template build/merge.json build/package``.
   Chalice imports ``app.py`` to find the functions, and ``app.py`` loads the settings; the
   staged config therefore drops ``MAMBA_ENV`` from the packaged stage (the merged
   template sets ``MAMBA_ENV=deployed`` on every function) and the import runs in test mode
   with a throwaway secret.
4. **Byte-compile** both zips (``.pyc`` with unchecked hashes: zip timestamps cannot be
   trusted and the code never changes after deploy), so a cold start does not compile
   about 2,500 modules.
5. **Verify** the merged template (the logical ids infra assumed exist) and run
   **cfn-lint** on it: any error fails the build.

``build/cache/`` (pip's wheels, Chalice's deployment zips, compiled zips) survives builds,
so a rebuild takes seconds; it is guarded by a file lock, so concurrent builds (a test run
and ``make package``) do not trample each other.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from functions.tasks import TASKS
from infra import template as cfn

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
CACHE = BUILD / "cache"
STAGE_NAME = "dev"
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
LAMBDA_RUNTIME = "python3.12"
DEFAULT_REGION = "us-east-1"
KEEP_CACHED_ZIPS = 6

# The Lambda environment that requirement markers are evaluated against.
LAMBDA_MARKERS = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}

# cfn-lint findings that are accepted, each with its reason. Errors are never ignored.
IGNORED_CHECKS: dict[str, str] = {}


class BuildError(Exception):
    """The package could not be built; the message says which step and why."""


@dataclass
class BuildResult:
    out: Path
    template: Path
    deployment_zip: Path
    layer_zip: Path
    lint: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def lint_errors(self) -> list[dict[str, Any]]:
        return [f for f in self.lint if f.get("Level") == "Error"]

    @property
    def lint_warnings(self) -> list[dict[str, Any]]:
        return [f for f in self.lint if f.get("Level") == "Warning"]


# --- requirements -----------------------------------------------------------------------


def _lock_pins(lock: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _marker_applies(marker: Marker | None, extras: set[str]) -> bool:
    if marker is None:
        return True
    return any(marker.evaluate({**LAMBDA_MARKERS, "extra": extra}) for extra in extras | {""})


def runtime_requirements(pyproject: Path | None = None, lock: Path | None = None) -> list[str]:
    """``name==version`` for the runtime closure of pyproject's dependencies, pinned by the lock.

    chalice is left out: Chalice ships its own runtime module in the function zip, and its
    CLI dependencies have no business in Lambda. The closure is walked through the
    installed distributions' metadata, evaluated for the Lambda platform.
    """
    import importlib.metadata as metadata

    pyproject = pyproject or ROOT / "pyproject.toml"
    pins = _lock_pins(lock or ROOT / "requirements.lock")
    roots = [Requirement(r) for r in tomllib.loads(pyproject.read_text())["project"]["dependencies"]]
    wanted: dict[str, set[str]] = {}
    pending = [(canonicalize_name(r.name), set(r.extras)) for r in roots if canonicalize_name(r.name) != "chalice"]
    while pending:
        name, extras = pending.pop()
        known = wanted.get(name)
        if known is not None and extras <= known:
            continue
        wanted[name] = (known or set()) | extras
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError as exc:
            raise BuildError(f"requirements: {name} is not installed; run `make deps`") from exc
        for text in requires:
            req = Requirement(text)
            if _marker_applies(req.marker, wanted[name]):
                pending.append((canonicalize_name(req.name), set(req.extras)))
    missing = sorted(set(wanted) - set(pins))
    if missing:
        raise BuildError(f"requirements: {missing} are not pinned in requirements.lock; run `make lock`")
    return [f"{name}=={pins[name]}" for name in sorted(wanted)]


# --- staging ----------------------------------------------------------------------------


def _ignore_build_litter(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo")) or n.endswith(".egg-info")}


def staged_config(config: dict[str, Any], stage: str = STAGE_NAME) -> dict[str, Any]:
    """The project's Chalice config with ``MAMBA_ENV`` removed from what the packaged stage
    sets, so that Chalice's import of app.py at packaging time runs in test mode."""
    staged: dict[str, Any] = json.loads(json.dumps(config))
    if stage not in staged.get("stages", {}):
        raise BuildError(f"stage: .chalice/config.json has no {stage!r} stage")
    for scope in (staged, staged["stages"][stage]):
        env = scope.get("environment_variables") or {}
        if env.get("MAMBA_ENV", "deployed") != "deployed":
            raise BuildError(f"stage: the {stage!r} stage sets MAMBA_ENV={env['MAMBA_ENV']!r}, not 'deployed'")
        env.pop("MAMBA_ENV", None)
    return staged


def stage(out: Path) -> Path:
    target = out / "stage"
    shutil.rmtree(target, ignore_errors=True)
    (target / ".chalice").mkdir(parents=True)
    (target / "vendor").mkdir()
    shutil.copy2(ROOT / "app.py", target / "app.py")
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    (target / ".chalice" / "config.json").write_text(json.dumps(staged_config(config), indent=2) + "\n")
    # Chalice keeps its built zips in .chalice/deployments, keyed by the requirements and
    # vendor/ content: point it at the shared cache so unchanged dependencies are reused.
    deployments = CACHE / "deployments"
    deployments.mkdir(parents=True, exist_ok=True)
    (target / ".chalice" / "deployments").symlink_to(deployments, target_is_directory=True)
    shutil.copytree(ROOT / "functions", target / "vendor" / "functions", ignore=_ignore_build_litter)
    shutil.copytree(ROOT / "layers" / "core" / "mamba", target / "vendor" / "mamba", ignore=_ignore_build_litter)
    if not (target / "vendor" / "mamba" / "static" / "swagger").is_dir():
        print("infra.build: warning: mamba/static/swagger is missing (run `make assets`); /docs will not render")
    header = "# Generated by infra.build from requirements.lock: the Lambda runtime closure.\n"
    (target / "requirements.txt").write_text(header + "\n".join(runtime_requirements()) + "\n")
    return target


# --- chalice package --------------------------------------------------------------------


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise BuildError(f"{name} is not installed; run `make deps`")
    return found


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def chalice_package(staged: Path, merge: Path, package: Path, region: str) -> None:
    shutil.rmtree(package, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AWS_ENDPOINT_URL")}
    env.update(
        {
            "AWS_DEFAULT_REGION": region,
            # Only for Chalice's import of app.py while packaging (see the module docstring).
            "MAMBA_ENV": "test",
            "JWT_SECRET": secrets.token_urlsafe(48),
            "MAMBA_LOCAL_SECRETS_FILE": os.devnull,
            "PIP_CACHE_DIR": str(CACHE / "pip"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
    )
    command = [_tool("chalice"), "package", "--stage", STAGE_NAME, "--merge-template", str(merge), str(package)]
    result = subprocess.run(command, cwd=staged, env=env, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise BuildError(f"chalice package failed (exit {result.returncode}):\n{tail}")


def _prune(directory: Path, keep: int = KEEP_CACHED_ZIPS) -> None:
    zips = sorted(directory.glob("*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in zips[keep:]:
        old.unlink(missing_ok=True)


# --- byte-compiling ---------------------------------------------------------------------


def compile_zip(path: Path, lambda_root: str) -> int:
    """Add unchecked-hash ``.pyc`` files for every module in the zip; return how many the
    zip holds. ``lambda_root`` is where Lambda unpacks it, for the paths in tracebacks.

    Results are cached by the input zip's digest, so an unchanged layer is not recompiled.
    """
    digest = hashlib.md5(path.read_bytes()).hexdigest()  # noqa: S324 - a cache key, not security
    cached = CACHE / "compiled" / f"{digest}-{RUNTIME}.zip"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="compile-", dir=CACHE) as tmp:
            root = Path(tmp) / "root"
            with zipfile.ZipFile(path) as source:
                infos = source.infolist()
                source.extractall(root)
            # A child interpreter, not compileall's process pool: forking the caller (a
            # pytest worker with moto threads, say) is not safe.
            command = [sys.executable, "-m", "compileall", "-q", "-j", "0", "-d", lambda_root]
            command += ["--invalidation-mode", "unchecked-hash", str(root)]
            compiling = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
            if compiling.returncode != 0:
                failures = "\n".join((compiling.stdout + compiling.stderr).strip().splitlines()[-15:])
                raise BuildError(f"compileall: modules in {path.name} do not compile for {RUNTIME}:\n{failures}")
            modes = {info.filename: info.external_attr for info in infos}
            partial = Path(tmp) / "out.zip"
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as target:
                for file in sorted(p for p in root.rglob("*") if p.is_file()):
                    name = file.relative_to(root).as_posix()
                    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = modes.get(name, 0o644 << 16)
                    target.writestr(info, file.read_bytes())
            partial.replace(cached)
        _prune(cached.parent)
    shutil.copyfile(cached, path)
    with zipfile.ZipFile(path) as compiled:
        return sum(1 for name in compiled.namelist() if name.endswith(".pyc"))


# --- verification and lint --------------------------------------------------------------


def verify(template: dict[str, Any]) -> None:
    """Fail clearly when Chalice's output no longer matches what infra.template assumed."""
    resources = template.get("Resources", {})
    functions = {k: v for k, v in resources.items() if v.get("Type") == "AWS::Serverless::Function"}
    problems = []
    untyped = sorted(k for k, v in resources.items() if "Type" not in v)
    if untyped:
        problems.append(f"merged resources {untyped} have no Chalice counterpart (Chalice renamed or dropped them)")
    for name, logical_id in cfn.task_logical_ids().items():
        if logical_id not in functions:
            problems.append(f"task {name!r} was expected as {logical_id!r}; Chalice's functions: {sorted(functions)}")
    consumer = cfn.function_logical_id(cfn.STRIPE_CONSUMER)
    if consumer not in functions:
        problems.append(
            f"the Stripe events consumer was expected as {consumer!r}; Chalice's functions: {sorted(functions)}"
        )
    for logical_id, function in functions.items():
        props = function.get("Properties", {})
        if props.get("Role") != {"Fn::GetAtt": [cfn.DEFAULT_ROLE, "Arn"]}:
            problems.append(f"{logical_id} does not use {cfn.DEFAULT_ROLE}, so FunctionsPolicy does not reach it")
        if props.get("Runtime") != LAMBDA_RUNTIME:
            problems.append(f"{logical_id} runs {props.get('Runtime')}, the layer is compiled for {LAMBDA_RUNTIME}")
        own_env = props.get("Environment", {}).get("Variables", {})
        overridden = sorted(set(own_env) & {"MAMBA_ENV", "MAMBA_SECRETS_ID", "STATE_MACHINE_PREFIX"})
        if overridden:
            problems.append(f"{logical_id} overrides {overridden} from .chalice/config.json; infra sets them")
    body = resources.get(cfn.REST_API, {}).get("Properties", {}).get("DefinitionBody", {})
    if "x-amazon-apigateway-gateway-responses" not in body or "paths" not in body:
        problems.append(f"{cfn.REST_API} lost its routes or its gateway responses in the merge")
    if problems:
        raise BuildError("the merged template is not what infra expects:\n  " + "\n  ".join(problems))


def cfn_lint(template: Path, region: str) -> list[dict[str, Any]]:
    command = [_tool("cfn-lint"), "--format", "json", "--regions", region]
    if IGNORED_CHECKS:
        command += ["--ignore-checks", *IGNORED_CHECKS]
    result = subprocess.run([*command, "--", str(template)], capture_output=True, text=True, timeout=600, check=False)
    try:
        findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    except ValueError as exc:
        raise BuildError(f"cfn-lint did not run (exit {result.returncode}): {result.stderr.strip()[-2000:]}") from exc
    return findings


def describe_finding(finding: dict[str, Any]) -> str:
    rule = finding.get("Rule", {}).get("Id", "?")
    path = "/".join(str(p) for p in finding.get("Location", {}).get("Path", []) or [])
    return f"{finding.get('Level')} {rule} at {path}: {finding.get('Message')}"


# --- the whole build --------------------------------------------------------------------


def build(out: Path = BUILD, region: str = DEFAULT_REGION, lint: bool = True) -> BuildResult:
    if RUNTIME != LAMBDA_RUNTIME:
        raise BuildError(f"run the build with {LAMBDA_RUNTIME} (this is {RUNTIME}): the .pyc files must match Lambda's")
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    def step(name: str, started: float) -> None:
        timings[name] = round(time.monotonic() - started, 2)

    with _locked(CACHE / ".lock"):
        started = time.monotonic()
        staged = stage(out)
        merge = out / "merge.json"
        merge.write_text(json.dumps(cfn.merge_template(), indent=2) + "\n")
        step("stage", started)

        started = time.monotonic()
        package = out / "package"
        chalice_package(staged, merge, package, region)
        _prune(CACHE / "deployments")
        step("chalice package", started)

        started = time.monotonic()
        deployment_zip, layer_zip = package / "deployment.zip", package / "layer-deployment.zip"
        if not layer_zip.exists():
            raise BuildError("chalice package made no layer-deployment.zip; is automatic_layer still true?")
        compile_zip(deployment_zip, "/var/task")
        compile_zip(layer_zip, "/opt")
        step("compile", started)

    template_path = package / "sam.json"
    packaged = json.loads(template_path.read_text())
    try:
        cfn.api_through_alias(packaged)  # API Gateway invokes the SnapStart alias, not $LATEST
    except cfn.TemplateError as exc:
        raise BuildError(str(exc)) from exc
    template_path.write_text(json.dumps(packaged, indent=2) + "\n")
    verify(packaged)
    result = BuildResult(out, template_path, deployment_zip, layer_zip, timings=timings)
    if lint:
        started = time.monotonic()
        result.lint = cfn_lint(template_path, region)
        (out / "cfn-lint.json").write_text(json.dumps(result.lint, indent=2) + "\n")
        step("cfn-lint", started)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=BUILD, help="output folder (default: build/)")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION)
    parser.add_argument("--no-lint", action="store_true", help="skip cfn-lint")
    args = parser.parse_args(argv)
    try:
        result = build(args.out.resolve(), args.region, lint=not args.no_lint)
    except BuildError as exc:
        print(f"infra.build: {exc}", file=sys.stderr)
        return 1
    for finding in result.lint:
        print(f"  cfn-lint: {describe_finding(finding)}")
    for check, reason in IGNORED_CHECKS.items():
        print(f"  cfn-lint: ignoring {check}: {reason}")
    resources = len(json.loads(result.template.read_text())["Resources"])
    lint = "skipped" if args.no_lint else f"{len(result.lint_errors)} errors, {len(result.lint_warnings)} warnings"
    print(
        f"infra.build: {result.template} ({len(TASKS)} task functions, {resources} resources); "
        f"cfn-lint {lint}; timings {result.timings}"
    )
    return 1 if result.lint_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
