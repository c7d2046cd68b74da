"""The web panel's JavaScript budget (ARCHITECTURE.md §10): the sign-in page's first load
transfers at most 200 KB of JavaScript gzipped; the console, the editor and the other
signed-in pages are chunks loaded on use.

The first load is what ``web/dist/index.html`` makes the browser fetch before any route
code runs: the entry module and the chunks it preloads (``modulepreload``). The sign-in page
is in the entry (router.tsx keeps the signed-out pages eager), so nothing else is needed to
show it. Sizes are of the built files (``make deps`` builds ``web/dist``), gzipped at level 9.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from bench.registry import FAIL, PASS, BenchContext, MeasurementError, Row, section

KB = 1000
SIGN_IN_BUDGET_BYTES = 200 * KB
# Lazy chunks worth naming in the table (Vite names chunks after their module).
NAMED_CHUNKS = (("Console", "console (xterm)"), ("Editor", "file editor (CodeMirror)"), ("FilesPage", "files page"))

_ASSET = re.compile(r'(?:src|href)="/(assets/[^"]+\.(?:js|css))"')


def _gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def first_load(dist: Path) -> list[Path]:
    """The JS and CSS files index.html loads up front (entry script, module preloads, styles)."""
    index = dist / "index.html"
    if not index.exists():
        raise MeasurementError(f"{index} is missing: build the panel first (make deps)")
    return [dist / found for found in dict.fromkeys(_ASSET.findall(index.read_text()))]


@section("web", title="Web panel: JavaScript the browser loads (gzipped)", columns=("chunk", "kb", "gzip_kb", "status"))
def web_sizes(ctx: BenchContext) -> list[Row]:
    dist = ctx.root / "web" / "dist"
    files = first_load(dist)
    rows: list[Row] = []
    js_gzip = 0
    for path in files:
        size, zipped = path.stat().st_size, _gzip_size(path)
        if path.suffix == ".js":
            js_gzip += zipped
        rows.append({"chunk": f"first load: {path.name}", "kb": round(size / KB, 1), "gzip_kb": round(zipped / KB, 1)})
    rows.append(
        {
            "chunk": "sign-in page, first-load JS (budget 200 KB)",
            "kb": None,
            "gzip_kb": round(js_gzip / KB, 1),
            "budget_kb": SIGN_IN_BUDGET_BYTES / KB,
            "status": PASS if js_gzip <= SIGN_IN_BUDGET_BYTES else FAIL,
        }
    )
    chunks = sorted((dist / "assets").glob("*.js"))
    for prefix, label in NAMED_CHUNKS:
        for path in chunks:
            if path.name.startswith(f"{prefix}-"):
                rows.append(
                    {
                        "chunk": f"on use: {label} ({path.name})",
                        "kb": round(path.stat().st_size / KB, 1),
                        "gzip_kb": round(_gzip_size(path) / KB, 1),
                    }
                )
    lazy = [p for p in chunks if p not in files]
    rows.append(
        {
            "chunk": f"on use: all {len(lazy)} lazy chunks",
            "kb": round(sum(p.stat().st_size for p in lazy) / KB, 1),
            "gzip_kb": round(sum(_gzip_size(p) for p in lazy) / KB, 1),
        }
    )
    return rows
