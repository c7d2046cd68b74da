"""Validate every ``statemachines/*.asl.json``: ``python -m infra.validate`` (run by ``make lint``).

Three checks, each reporting the file and what is wrong:

* **placeholders**: every ``${Name}`` is one that both ``placeholders_cfn`` (infra) and
  ``placeholders_local`` (the local stack) fill, and none sits in a number field (a
  template can only substitute strings; use the ``...Path`` variant such as ``SecondsPath``);
* **statelint** (PyPI): the raw file with ``URI`` problems ignored, because a placeholder is
  not yet an ARN, and the rendered file with ARN checks on;
* **asl-validator** (npm, ``node_modules/.bin``): the rendered files, ARN checks on.

``FLOAT`` problems are ignored by statelint in both passes: ASL defines ``BackoffRate`` as a
number ≥ 1 and the service, asl-validator and cfn-lint all accept ``2``; statelint 3.1 alone
insists on ``2.0``.

cfn-lint checks the ASL again once it is embedded as a ``Definition`` in the merged
template (``infra.build`` and the packaging test).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import workflows

ROOT = workflows.ROOT
ASL_VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"

# Dummy values for rendering: the shapes the validators expect (an ARN, a table name).
DUMMY_REGION = "us-east-1"
DUMMY_ACCOUNT = "123456789012"

# ASL fields whose value is a number. A placeholder is a string, so it can never fill one.
NUMBER_FIELDS = frozenset(
    {
        "BackoffRate",
        "HeartbeatSeconds",
        "IntervalSeconds",
        "MaxAttempts",
        "MaxConcurrency",
        "MaxDelaySeconds",
        "Seconds",
        "TimeoutSeconds",
        "ToleratedFailureCount",
        "ToleratedFailurePercentage",
    }
)


@dataclass(frozen=True)
class Problem:
    workflow: str
    check: str
    message: str

    def __str__(self) -> str:
        return f"statemachines/{self.workflow}.asl.json: [{self.check}] {self.message}"


def dummy_placeholders() -> dict[str, str]:
    return workflows.placeholders_local(DUMMY_REGION, DUMMY_ACCOUNT, "mamba-main", "mamba-backups")


def fillable_placeholders() -> set[str]:
    """Names that infra *and* the local stack both know how to fill."""
    from functions.tasks import TASKS

    cfn = set(workflows.placeholders_cfn({fn: fn for fn in TASKS}))
    return cfn & set(dummy_placeholders())


def _walk(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """Yield ``(path, key, value)`` for every key in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def check_placeholders(name: str, definition: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    unknown = workflows.placeholders_in(definition) - fillable_placeholders()
    if unknown:
        problems.append(
            Problem(
                name,
                "placeholders",
                f"no value for {sorted('${' + u + '}' for u in unknown)}; infra fills only "
                f"{sorted(fillable_placeholders())} (add the name to infra.workflows.placeholders_cfn and "
                "placeholders_local, or to functions.tasks.TASKS)",
            )
        )
    for path, key, value in _walk(definition, "$"):
        if key in NUMBER_FIELDS and not isinstance(value, int | float):
            problems.append(
                Problem(
                    name,
                    "placeholders",
                    f"{path}.{key} must be a number, not {value!r}; use the ...Path field (e.g. SecondsPath) "
                    "to take it from the input",
                )
            )
    return problems


def run_statelint(name: str, definition: dict[str, Any], rendered: dict[str, Any]) -> list[Problem]:
    from statelint.config import Config
    from statelint.linter import Linter
    from statelint.problem import ProblemType

    problems: list[Problem] = []
    seen: set[str] = set()
    passes = (
        ("statelint", definition, {ProblemType.URI, ProblemType.FLOAT}),
        ("statelint (rendered)", rendered, {ProblemType.FLOAT}),
    )
    for check, document, ignored in passes:
        for message in Linter.validate(document, Config(ignored_problem_types=ignored)):
            # The rendered pass repeats the raw pass's findings; report each once.
            if message.strip() not in seen:
                seen.add(message.strip())
                problems.append(Problem(name, check, message.strip()))
    return problems


def run_asl_validator(rendered: dict[str, dict[str, Any]]) -> list[Problem]:
    """asl-validator on each rendered file (one run per file, so each problem names its file)."""
    if not rendered:
        return []
    if not ASL_VALIDATOR.exists():
        return [
            Problem(name, "asl-validator", f"{ASL_VALIDATOR.relative_to(ROOT)} is missing; run `make deps` (npm ci)")
            for name in rendered
        ]
    problems: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="asl-") as tmp:
        paths = {}
        for name, document in rendered.items():
            path = Path(tmp) / f"{name}.asl.json"
            path.write_text(json.dumps(document, indent=2))
            paths[name] = path
        for name, path in paths.items():
            # One file per run: asl-validator stops reporting at the first invalid file.
            result = subprocess.run(
                [str(ASL_VALIDATOR), "--json-path", str(path)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if result.returncode != 0:
                output = (result.stdout + result.stderr).replace(str(path), f"{name}.asl.json (rendered)")
                lines = [line.strip() for line in output.splitlines() if line.strip() and "✓" not in line]
                problems.append(Problem(name, "asl-validator", "; ".join(lines) or f"exit {result.returncode}"))
    return problems


def validate(names: list[str] | None = None) -> list[Problem]:
    """Every problem in the named workflows (default: all of them); empty when all pass."""
    names = workflows.workflow_names() if names is None else names
    problems: list[Problem] = []
    rendered: dict[str, dict[str, Any]] = {}
    dummies = dummy_placeholders()
    for name in names:
        try:
            definition = workflows.load(name)
        except (OSError, ValueError) as exc:
            problems.append(Problem(name, "json", f"cannot be read as JSON: {exc}"))
            continue
        placeholder_problems = check_placeholders(name, definition)
        problems += placeholder_problems
        if placeholder_problems:
            rendered_definition = definition
        else:
            rendered_definition = workflows.render(definition, dummies)
            rendered[name] = rendered_definition
        problems += run_statelint(name, definition, rendered_definition)
    problems += run_asl_validator(rendered)
    return problems


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or None
    if not workflows.workflow_names():
        print("infra.validate: no statemachines/*.asl.json found", file=sys.stderr)
        return 1
    problems = validate(names)
    checked = names or workflows.workflow_names()
    if problems:
        print(f"infra.validate: {len(problems)} problem(s) in the state machines:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"infra.validate: {len(checked)} state machine(s) pass placeholders, statelint and asl-validator: {checked}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
