"""The docs page references only its own assets; the asset lookup is a whitelist."""

from __future__ import annotations

import re

import pytest

from mamba import docs_page


def test_page_loads_scripts_and_styles_only_from_local_assets():
    html = docs_page.page()

    sources = re.findall(r'(?:src|href)\s*=\s*"([^"]+)"', html)
    assert sources == [
        "docs/assets/swagger-ui.css",
        "docs/assets/swagger-ui-bundle.js",
        "docs/assets/swagger-ui-standalone-preset.js",
        "docs/assets/docs-init.js",
    ]
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE)
    init = docs_page.asset("docs-init.js")
    assert init is not None and "validatorUrl: null" in init[0], "else Swagger UI sends the document to swagger.io"


@pytest.mark.parametrize(
    "name",
    [
        "../config.py",
        "../../web.py",
        "..%2Fconfig.py",
        "/etc/passwd",
        "swagger-ui.css/../../config.py",
        "SWAGGER-UI.CSS",
        "swagger-ui.css ",
        "",
        "index.html",
    ],
)
def test_asset_is_none_when_name_is_not_whitelisted(name):
    assert docs_page.asset(name) is None


@pytest.mark.parametrize("name", sorted(docs_page.ASSETS))
def test_asset_is_served_with_its_type_when_whitelisted(name):
    found = docs_page.asset(name)

    assert found is not None, f"{name} missing: run `make assets`"
    body, content_type = found
    assert len(body) > 1000
    assert content_type == docs_page.ASSETS[name]
