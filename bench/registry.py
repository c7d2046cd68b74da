"""A small registry of bench sections: name -> function returning rows.

A section is a function ``(ctx) -> list[Row]`` registered with ``@section(...)``. A row is
a plain dict; ``columns`` chooses which keys the printed table shows, while every key goes
to ``build/bench.json``. A row whose ``status`` is ``PASS`` or ``FAIL`` is a budget check
and is repeated in the run's summary.

To add a section in a later issue: write ``bench/<topic>.py`` with a decorated function and
add the module to ``SECTION_MODULES`` in ``bench/run.py``. Sections that share an expensive
measurement compute it once through ``ctx.memo``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Row = dict[str, Any]
Column = str | tuple[str, str]  # a row key, or (row key, header)
SectionFunc = Callable[["BenchContext"], list[Row]]

PASS = "PASS"
FAIL = "FAIL"


class MeasurementError(RuntimeError):
    """A measurement could not be taken (as opposed to a budget that was missed)."""


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    columns: tuple[Column, ...]
    func: SectionFunc


@dataclass
class BenchContext:
    """What every section gets: where the project is, which interpreter, how many runs."""

    root: Path
    python: str
    workdir: Path  # a scratch directory, removed after the run
    runs: int = 7
    top: int = 12
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """Compute ``key`` once per run, so several sections can share one measurement.

        A failure is remembered too: the sections that need it fail without measuring again.
        """
        if key not in self._memo:
            try:
                self._memo[key] = compute()
            except Exception as exc:  # noqa: BLE001 - re-raised below, for every caller
                self._memo[key] = exc
        found = self._memo[key]
        if isinstance(found, Exception):
            raise found
        return found


SECTIONS: dict[str, Section] = {}


def section(name: str, *, title: str, columns: tuple[Column, ...]) -> Callable[[SectionFunc], SectionFunc]:
    """Register ``func`` as the section ``name``; sections run in registration order."""

    def register(func: SectionFunc) -> SectionFunc:
        if name in SECTIONS:
            raise ValueError(f"bench section {name!r} is registered twice")
        SECTIONS[name] = Section(name=name, title=title, columns=columns, func=func)
        return func

    return register


def checks(rows: list[Row]) -> list[Row]:
    """The rows that are budget checks (status PASS or FAIL)."""
    return [row for row in rows if row.get("status") in (PASS, FAIL)]


def run_probe(root: Path, python: str, module: str, marker: str, *args: str, timeout: float = 900) -> dict[str, Any]:
    """Run ``python -m <module> <args>`` in a fresh interpreter with only the project on its path
    and return the last JSON line of its output that starts with ``{"<marker>"``.

    Probes print their figures as one JSON line; anything else they print (moto, the
    simulator) is ignored. A failed run or a missing line is a MeasurementError with the
    end of its stderr."""
    done = subprocess.run(
        [python, "-m", module, *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{root / 'layers' / 'core'}:{root}"},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith('{"' + marker + '"')]
    if done.returncode != 0 or not lines:
        raise MeasurementError(f"{module} failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result
