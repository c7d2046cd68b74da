"""The /docs page: Swagger UI from the npm package swagger-ui-dist, served from local files.

The assets are copied from ``node_modules/swagger-ui-dist`` into ``mamba/static/swagger``
by ``make assets`` (and by the packaging build), so the page never touches a CDN.

The page's URLs are relative, so it also works behind an API Gateway stage prefix
(``/api/docs`` loads ``/api/docs/assets/...`` and ``/api/openapi.json``).
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
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script src="docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="docs/assets/docs-init.js"></script>
</body>
</html>
"""


# A file, not an inline <script>: the panel's Content-Security-Policy (mamba.web_headers)
# allows no inline script, on the web app and on /docs alike.
INIT_SCRIPT = """// validatorUrl: null, or Swagger UI sends the document to validator.swagger.io.
window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout"});
"""
INIT_NAME = "docs-init.js"


def page() -> str:
    return PAGE


def asset(name: str) -> tuple[str, str] | None:
    """The text of a known asset and its content type; None for any other name.

    Only the three names in ``ASSETS`` are ever joined to a path (the init script is in
    memory), so ``../`` and friends cannot escape, and only they are cached (an unbounded
    cache keyed by what a client sends would be a memory leak).
    """
    if name == INIT_NAME:
        return INIT_SCRIPT, "application/javascript; charset=utf-8"
    if name not in ASSETS:
        return None
    return _read(name)


@functools.cache
def _read(name: str) -> tuple[str, str] | None:
    path = STATIC / name
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8"), ASSETS[name]
