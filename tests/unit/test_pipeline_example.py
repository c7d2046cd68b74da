"""The pipeline example (.github/workflows/deploy.yml) and docs/deploy.md's commands hold together
(issue 19, items 2 and 4): the deploy job runs after the tests, signs in with OIDC, and runs
package, deploy, the migrations (dry run first) and the self-check in that order; and every
``mamba`` command line in the workflow and in the deploy docs parses with the real CLI.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from mamba.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
DOCS = [ROOT / "docs" / "deploy.md", ROOT / "docs" / "operations.md", ROOT / "docs" / "nodes.md"]
# A mamba command line in a shell block: the program (maybe behind "$ " or in "$(...)") to the end
# of the command; output lines ("mamba migrate: error: ...") have a colon after the command word.
MAMBA_LINE = re.compile(r"(?:^\s*(?:\$ )?|\$\()(?:\.venv/bin/)?mamba ((?:--\S+ \S+ )*[a-z-]+[^|;&)>\n]*)", re.M)


def _deploy_steps() -> list[str]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return [str(step.get("run", "")) for step in workflow["jobs"]["deploy"]["steps"]]


def test_the_deploy_job_runs_after_the_tests_and_signs_in_with_oidc() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow["permissions"]["id-token"] == "write"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "test"
    assert any("configure-aws-credentials" in str(step.get("uses", "")) for step in deploy["steps"])
    assert not re.search(r"AWS_SECRET_ACCESS_KEY|aws_secret_access_key", WORKFLOW.read_text())
    assert "make test" in " ".join(str(s.get("run", "")) for s in workflow["jobs"]["test"]["steps"])


def test_the_deploy_job_packages_deploys_migrates_and_checks_in_that_order() -> None:
    text = "\n".join(_deploy_steps())
    order = [
        "make package",
        "aws cloudformation package",
        "aws cloudformation deploy",
        "migrate --dry-run",
        'mamba --stack "$STACK" migrate\n',
        "check-platform --wait",
    ]
    positions = [text.find(marker) for marker in order]
    assert -1 not in positions, dict(zip(order, positions, strict=True))
    assert positions == sorted(positions)


def _mamba_commands(text: str) -> list[str]:
    found = [m.group(1).strip().rstrip("\\").strip() for m in MAMBA_LINE.finditer(text)]
    return [c for c in found if not re.match(r"(?:--\S+ \S+ )*[a-z-]+:", c)]  # not output lines


def _code(text: str) -> str:
    """The shell in a markdown file's fenced blocks."""
    return "\n".join(re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, flags=re.S))


COMMANDS = sorted(
    {(str(path.relative_to(ROOT)), c) for path in DOCS for c in _mamba_commands(_code(path.read_text()))}
    | {(".github/workflows/deploy.yml", c) for c in _mamba_commands("\n".join(_deploy_steps()))}
)


def test_the_docs_and_the_pipeline_name_mamba_commands() -> None:
    assert any("--stack" in c for _, c in COMMANDS)
    assert {"migrate --dry-run", "check-platform --wait"} <= {
        m for _, c in COMMANDS for m in ("migrate --dry-run", "check-platform --wait") if m in c
    }


@pytest.mark.parametrize(("where", "command"), COMMANDS)
def test_every_mamba_command_line_parses_with_the_cli(where: str, command: str) -> None:
    # Placeholders (<email>, $STACK, NODE) stand for one word each.
    words = [w for w in shlex.split(re.sub(r"<[^>]+>", "X", command), comments=True) if w not in ("...",)]
    parser = build_parser()
    try:
        parser.parse_args(words)
    except SystemExit as exc:
        pytest.fail(f"{where}: `mamba {command}` does not parse (exit {exc.code})")


# --- the stack's parameters, as the docs and the pipeline name them ---------------------------


def _template_parameters() -> set[str]:
    from infra import template as cfn

    return set(cfn.merge_template()["Parameters"])


def _overrides(text: str) -> set[str]:
    """``Name=value`` words after ``--parameter-overrides`` (to the end of that command)."""
    found: set[str] = set()
    for block in re.findall(r"--parameter-overrides(.*?)(?:\n\s*\n|\n```|\n\s*-\s|$)", text, flags=re.S):
        found.update(re.findall(r"(?:^|[\s\"])([A-Z][A-Za-z0-9]+)=", block))
    return found


@pytest.mark.parametrize("path", ["docs/deploy.md", "README.md", ".github/workflows/deploy.yml"])
def test_every_parameter_the_docs_and_the_pipeline_pass_exists_in_the_template(path: str) -> None:
    named = _overrides((ROOT / path).read_text())
    assert named, f"{path} passes no --parameter-overrides"
    assert named - _template_parameters() == set()


def test_deploy_md_documents_every_parameter_of_the_template() -> None:
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text.split("\n## Parameters\n", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Za-z0-9]+)`(?:, `([A-Za-z0-9]+)`)?", section, flags=re.M))
    names = {name for pair in documented for name in pair if name}
    assert _template_parameters() - names == set()
