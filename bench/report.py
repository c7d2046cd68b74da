"""Pure helpers: summary statistics and plain-text tables."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from bench.registry import Column, Row


def summarize(samples_ms: Sequence[float]) -> dict[str, float]:
    """Median, min and max of a list of timings, rounded for display and JSON."""
    if not samples_ms:
        raise ValueError("no samples")
    return {
        "median_ms": round(statistics.median(samples_ms), 1),
        "min_ms": round(min(samples_ms), 1),
        "max_ms": round(max(samples_ms), 1),
    }


def ratio(numerator: float, denominator: float) -> float:
    if denominator <= 0:
        raise ValueError("the reference measurement must be positive")
    return round(numerator / denominator, 3)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 1 or value == 0 else f"{value:.2g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def format_table(columns: Sequence[Column], rows: Sequence[Row]) -> str:
    """A left/right-aligned text table: numbers right, everything else left."""
    keys = [c if isinstance(c, str) else c[0] for c in columns]
    headers = [c.replace("_", " ") if isinstance(c, str) else c[1] for c in columns]
    cells = [[_cell(row.get(k)) for k in keys] for row in rows]
    numeric = [any(_is_number(row.get(k)) for row in rows) for k in keys]
    widths = [max([len(h), *(len(line[i]) for line in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(values) for values in cells]
    return "\n".join(out)
