"""Parse ``python -X importtime`` output.

Each line is ``import time: <self us> | <cumulative us> | <2*depth spaces><module>``, and a
module is printed after everything it imported (post-order). So the modules imported while
``import app`` ran are the lines between the previous depth-0 line and app's own line, and
app's direct imports are those at depth 1.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

_PREFIX = "import time:"


@dataclass(frozen=True)
class ImportLine:
    name: str
    depth: int
    self_us: int
    cumulative_us: int


def parse(text: str) -> list[ImportLine]:
    lines: list[ImportLine] = []
    for raw in text.splitlines():
        if not raw.startswith(_PREFIX):
            continue
        parts = raw[len(_PREFIX) :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header line, or noise
        name_field = parts[2][1:]  # one separator space, then 2 spaces per level
        name = name_field.lstrip(" ")
        depth = (len(name_field) - len(name)) // 2
        lines.append(ImportLine(name=name.strip(), depth=depth, self_us=int(parts[0]), cumulative_us=int(parts[1])))
    return lines


def subtree(lines: Sequence[ImportLine], root: str) -> tuple[ImportLine, list[ImportLine]]:
    """The line of top-level module ``root`` and every import made while it ran."""
    for index, line in enumerate(lines):
        if line.depth == 0 and line.name == root:
            start = index
            while start > 0 and lines[start - 1].depth > 0:
                start -= 1
            return line, list(lines[start:index])
    raise LookupError(f"{root} was not imported at top level")


def direct_imports(lines: Sequence[ImportLine], root: str) -> dict[str, int]:
    """Cumulative microseconds of each module ``root`` imported directly."""
    _, inner = subtree(lines, root)
    return {line.name: line.cumulative_us for line in inner if line.depth == 1}


def self_time_by_package(
    lines: Sequence[ImportLine], root: str, stdlib: Collection[str] = ()
) -> dict[str, tuple[int, int]]:
    """Self microseconds and module count per top-level package, ``root`` included.

    Modules whose top-level name is in ``stdlib`` are pooled as ``(stdlib)``.
    """
    top, inner = subtree(lines, root)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for line in [*inner, top]:
        package = line.name.split(".", 1)[0]
        key = "(stdlib)" if package in stdlib else package
        totals[key][0] += line.self_us
        totals[key][1] += 1
    return {k: (v[0], v[1]) for k, v in totals.items()}


def median_by_key(runs: Iterable[dict[str, int]]) -> dict[str, float]:
    """Per key, the median over the runs that contain it."""
    values: dict[str, list[int]] = defaultdict(list)
    for run in runs:
        for key, value in run.items():
            values[key].append(value)
    return {key: float(statistics.median(v)) for key, v in values.items()}
