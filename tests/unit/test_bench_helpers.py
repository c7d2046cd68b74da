"""The pure parts of `make bench`: parsing -X importtime, tables, the child environment.

No timings are asserted here; the budgets are checked by `make bench` itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import importtime
from bench.imports import BARE_APP, lambda_env, write_bare_app
from bench.registry import FAIL, PASS, SECTIONS, BenchContext, checks, section
from bench.report import format_table, ratio, summarize
from mamba.config import check_secret

# A trimmed real profile: `pydantic` is imported under `mamba.schemas`, which `app` imports;
# `site` is a sibling top-level import that must not be counted as app's.
PROFILE = """\
import time: self [us] | cumulative | imported package
import time:      1000 |       3000 | site
import time:      2000 |       2000 |       typing
import time:     40000 |      42000 |     pydantic
import time:     10000 |      52000 |   mamba.schemas
import time:     20000 |      20000 |   chalice
import time:       500 |        500 |     json.decoder
import time:       300 |        800 |   json
import time:       700 |      73500 | app
"""


def test_parse_reads_depth_and_times_when_given_importtime_lines():
    # Given a profile with a header line
    # When it is parsed
    lines = importtime.parse(PROFILE)
    # Then the header is skipped and depth follows the indentation
    assert lines[0] == importtime.ImportLine(name="site", depth=0, self_us=1000, cumulative_us=3000)
    assert [(line.name, line.depth) for line in lines[1:4]] == [("typing", 3), ("pydantic", 2), ("mamba.schemas", 1)]
    assert lines[-1].cumulative_us == 73500


def test_direct_imports_are_depth_one_when_profile_has_siblings():
    # Given a profile where app follows another top-level import
    lines = importtime.parse(PROFILE)
    # When app's direct imports are taken
    direct = importtime.direct_imports(lines, "app")
    # Then only app's children, with their cumulative time, are listed
    assert direct == {"mamba.schemas": 52000, "chalice": 20000, "json": 800}


def test_self_time_pools_stdlib_when_names_are_given():
    # Given the same profile and `typing` and `json` as standard library
    lines = importtime.parse(PROFILE)
    # When self time is grouped by top-level package
    totals = importtime.self_time_by_package(lines, "app", stdlib={"typing", "json"})
    # Then stdlib modules are pooled and site (not under app) is left out
    assert totals == {
        "(stdlib)": (2800, 3),
        "pydantic": (40000, 1),
        "mamba": (10000, 1),
        "chalice": (20000, 1),
        "app": (700, 1),
    }


def test_subtree_raises_when_module_was_not_imported_at_top_level():
    with pytest.raises(LookupError):
        importtime.subtree(importtime.parse(PROFILE), "chalice")


def test_median_by_key_ignores_missing_keys_when_runs_differ():
    assert importtime.median_by_key([{"a": 1, "b": 10}, {"a": 3}, {"a": 2}]) == {"a": 2.0, "b": 10.0}


def test_summarize_and_ratio_when_given_samples():
    assert summarize([3.0, 1.0, 2.0]) == {"median_ms": 2.0, "min_ms": 1.0, "max_ms": 3.0}
    assert ratio(140.0, 100.0) == 1.4
    with pytest.raises(ValueError):
        ratio(1.0, 0.0)


def test_format_table_aligns_numbers_right_when_mixed_columns():
    # Given rows with text, numbers, booleans and a missing value
    rows = [{"what": "app", "median_ms": 143.04, "ok": True}, {"what": "bare Chalice", "median_ms": 9.0}]
    # When formatted with one renamed header
    table = format_table(("what", ("median_ms", "median ms"), "ok"), rows).splitlines()
    # Then headers, alignment and cell rendering follow the column types
    assert table[0].split() == ["what", "median", "ms", "ok"]
    assert table[2] == "app               143.0  yes"
    assert table[3] == "bare Chalice        9.0  -"


def test_child_env_is_hermetic_when_parent_disables_bytecode(tmp_path: Path):
    # Given a parent shell that disables bytecode and carries unrelated variables
    parent = {"PATH": "/usr/bin", "PYTHONDONTWRITEBYTECODE": "1", "AWS_PROFILE": "prod", "JWT_SECRET": "changeme"}
    # When the child environment is built
    env = lambda_env(parent, tmp_path, (tmp_path / "a", tmp_path / "b"))
    # Then bytecode is allowed, nothing else leaks, and the secret passes the panel's own rules
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert "AWS_PROFILE" not in env
    assert env["PATH"] == "/usr/bin"
    assert env["MAMBA_ENV"] == "test"
    assert env["PYTHONPATH"] == f"{tmp_path / 'a'}:{tmp_path / 'b'}"
    assert check_secret("JWT_SECRET", env["JWT_SECRET"]) == env["JWT_SECRET"]


def test_bare_app_imports_boto3_at_module_level_when_written(tmp_path: Path):
    # When the bench writes its reference app
    path = write_bare_app(tmp_path / "bare")
    # Then it is valid Python that imports boto3 and Chalice eagerly
    source = path.read_text()
    compile(source, str(path), "exec")
    assert source == BARE_APP
    assert "\nimport boto3\n" in source
    assert "Chalice(app_name=" in source


def test_registry_rejects_duplicates_and_finds_checks_when_sections_register():
    # Given a registered section
    name = "test_registry_section"

    @section(name, title="t", columns=("budget", "status"))
    def rows(ctx: BenchContext) -> list[dict[str, object]]:
        return [{"budget": "a", "status": PASS}, {"budget": "b", "status": FAIL}, {"budget": "c"}]

    try:
        # When the same name registers again, then it is refused
        with pytest.raises(ValueError, match="twice"):
            section(name, title="t", columns=())(rows)
        # And only PASS/FAIL rows count as checks
        found = checks(SECTIONS[name].func(BenchContext(root=Path(), python="python", workdir=Path())))
        assert [row["budget"] for row in found] == ["a", "b"]
    finally:
        SECTIONS.pop(name, None)


def test_memo_computes_once_and_remembers_failures_when_shared():
    # Given a context and a counter of computations
    ctx = BenchContext(root=Path(), python="python", workdir=Path())
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return 42

    def broken() -> int:
        calls.append(1)
        raise RuntimeError("no")

    # When asked twice, then the value is computed once
    assert ctx.memo("k", compute) == ctx.memo("k", compute) == 42
    # And a failure is raised again without a second attempt
    for _ in range(2):
        with pytest.raises(RuntimeError):
            ctx.memo("bad", broken)
    assert len(calls) == 2
