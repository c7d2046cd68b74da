"""The /docs page: Swagger UI from the npm package swagger-ui-dist, served from local files.

The assets are copied from ``node_modules/swagger-ui-dist`` into ``mamba/static/swagger``
by ``make assets`` (and by the packaging build), so the page never touches a CDN.
"""

from __future__ import annotations

import functools
from pathlib import Path

STATIC = Path(__file__).parent / "static" / "swagger"
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "application/javascript; charset=utf-8",
}

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Mamba Host Panel API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout"});
  </script>
</body>
</html>
"""


def page() -> str:
    return PAGE


@functools.cache
def asset(name: str) -> tuple[str, str] | None:
    """The text of a known asset and its content type; None for anything else (no path games)."""
    if name not in ASSETS:
        return None
    path = STATIC / name
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8"), ASSETS[name]
