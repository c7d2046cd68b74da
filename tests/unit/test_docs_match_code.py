"""The docs say what the code does, where a machine can check it (issue 19, item 8).

Three drifts a reader would hit first: an environment variable Settings reads that README's
configuration table does not list; a ``mamba`` subcommand missing from operations.md's command
table; a route a doc names (``GET /v1/...``) that the app does not serve. Each check reads the
code's own source of truth (``mamba.config.VARIABLES``, ``mamba.cli.build_parser()``,
``app.app.routes``), so a new variable, command or route fails here until the docs say it.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from mamba import cli, config

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
OPERATIONS = ROOT / "docs" / "operations.md"
DOCS = [*sorted((ROOT / "docs").glob("*.md")), README]

# Read outside VARIABLES, by load_settings itself (where the secrets come from) or as secrets.
EXTRA_VARIABLES = (
    "MAMBA_SECRETS_ID",
    "MAMBA_SSM_PATH",
    "MAMBA_LOCAL_SECRETS_FILE",
    *config.SECRET_NAMES,
)

METHODS = "GET|POST|PUT|PATCH|DELETE"
# A panel route named in prose or a table: the method, one space, then the path up to the first
# character a path never holds (query string, backtick, closing bracket, whitespace).
DOC_ROUTE = re.compile(rf"\b({METHODS}) (/(?:v1|api/remote)/[^\s`?()\[\]|,;'\"]*)")
# Stripe's own API shares the /v1/ prefix; billing.md quotes its error messages.
STRIPE_API = re.compile(r"^/v1/(subscriptions|customers|prices|invoices|checkout|billing_portal)/")


def _table_rows(text: str, heading: str) -> list[str]:
    """The Markdown table rows of the section under ``heading`` (up to the next heading)."""
    section = text.split(heading, 1)[1]
    section = re.split(r"\n#{1,6} ", section, maxsplit=1)[0]
    return [line for line in section.splitlines() if line.startswith("|")]


def _first_cell_codes(rows: list[str]) -> str:
    # A cell may hold an escaped pipe (`--down N \\| --status`); only a bare one ends it.
    return " ".join(re.split(r"(?<!\\)\|", row)[1] for row in rows)


def _subcommands(parser: argparse.ArgumentParser, prefix: str = "mamba") -> list[str]:
    """Every leaf command path: ``mamba migrate``, ``mamba node config``, ..."""
    found: list[str] = []
    for action in parser._actions:  # argparse exposes subparsers only through this list
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                nested = _subcommands(child, f"{prefix} {name}")
                found.extend(nested or [f"{prefix} {name}"])
    return found


def _normalise(path: str) -> str:
    path = path.rstrip(".:")
    return re.sub(r"\{[^}]*\}|<[^>]*>", "{}", path)


def test_every_settings_variable_is_in_readme_configuration_table():
    cells = _first_cell_codes(_table_rows(README.read_text(), "## Configuration"))
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", cells))

    wanted = sorted(set(config.VARIABLES.values()) | set(EXTRA_VARIABLES))
    missing = [name for name in wanted if name not in listed]

    assert not missing, f"README.md's configuration table does not list {missing}"


def test_every_mamba_subcommand_is_in_operations_command_table():
    rows = _table_rows(OPERATIONS.read_text(), "| command | what it does |")
    cells = " ".join(re.findall(r"`(mamba [^`]*)`", _first_cell_codes(rows)))

    missing = [cmd for cmd in _subcommands(cli.build_parser()) if not re.search(rf"{re.escape(cmd)}\b", cells)]

    assert not missing, f"docs/operations.md's command table does not list {missing}"


def test_subcommand_walk_finds_nested_commands():
    # The walk must reach a nested action, or a missing `mamba node config` would pass unseen.
    assert "mamba node config" in _subcommands(cli.build_parser())


@pytest.fixture(scope="module")
def served() -> set[tuple[str, str]]:
    import app as app_module

    return {(method, _normalise(path)) for path, methods in app_module.app.routes.items() for method in methods}


def test_every_route_named_in_docs_exists(served):
    unknown: list[str] = []
    checked = 0
    for doc in DOCS:
        for lineno, line in enumerate(doc.read_text().splitlines(), 1):
            for method, path in DOC_ROUTE.findall(line):
                if STRIPE_API.match(path):
                    continue
                checked += 1
                if (method, _normalise(path)) not in served:
                    unknown.append(f"{doc.relative_to(ROOT)}:{lineno}: {method} {path}")

    # The docs name hundreds of routes; a handful would mean the pattern stopped reading them.
    assert checked > 100, checked
    assert not unknown, "docs name routes the app does not serve:\n" + "\n".join(unknown)


def test_route_pattern_reads_documented_forms(served):
    line = "see `GET /v1/admin/servers?status=&q=`, `PATCH /v1/admin/nodes/{id}` and `GET /v1/tenants/<tenant_id>`."
    found = {(m, _normalise(p)) for m, p in DOC_ROUTE.findall(line)}

    assert found == {("GET", "/v1/admin/servers"), ("PATCH", "/v1/admin/nodes/{}"), ("GET", "/v1/tenants/{}")}
    assert found <= served
