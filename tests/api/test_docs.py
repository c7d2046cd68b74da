"""GET /openapi.json, /docs and its assets, through the real app."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from mamba.routes import REGISTRY


def test_openapi_json_validates_as_openapi_31(client):
    response = client.http.get("/openapi.json")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    document = response.json_body
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_registered_route_appears_with_its_permission(client):
    paths = client.http.get("/openapi.json").json_body["paths"]

    assert REGISTRY, "the product registers routes"
    for spec in REGISTRY:
        if spec.door is None:  # Pterodactyl's door is docs/pterodactyl-api.md's
            assert paths[spec.path][spec.method.lower()]["x-permission"] == spec.permission
        else:
            assert spec.path not in paths


def test_every_chalice_route_is_declared_through_the_registry(client):
    import app as app_module

    declared = {(spec.path, spec.method) for spec in REGISTRY}
    served = {(path, method) for path, methods in app_module.app.routes.items() for method in methods}

    assert served == declared, "a route added with @app.route bypasses permissions and the OpenAPI document"


def test_docs_page_renders_from_local_assets_only(client):
    response = client.http.get("/docs")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    html = response.body.decode()
    assert "docs/assets/swagger-ui-bundle.js" in html and "docs/assets/docs-init.js" in html
    # no inline script: the panel's Content-Security-Policy (script-src 'self') would block it
    assert re.findall(r"<script\b[^>]*>\s*[^<\s]", html) == [] and all(
        "src=" in tag for tag in re.findall(r"<script\b[^>]*>", html)
    )
    for tag in re.findall(r"<(?:script|link)\b[^>]*>", html):
        assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", tag, re.IGNORECASE), tag
    assert "https://" not in html and "http://" not in html


@pytest.mark.parametrize(
    ("name", "content_type", "marker"),
    [
        ("swagger-ui-bundle.js", "application/javascript", "SwaggerUIBundle"),
        ("swagger-ui-standalone-preset.js", "application/javascript", "SwaggerUIStandalonePreset"),
        ("swagger-ui.css", "text/css", ".swagger-ui"),
        ("docs-init.js", "application/javascript", "SwaggerUIBundle({"),
    ],
)
def test_docs_assets_are_served_locally(client, name, content_type, marker):
    response = client.http.get(f"/docs/assets/{name}")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(content_type)
    assert marker in response.body.decode()


@pytest.mark.parametrize(
    "name",
    ["..%2F..%2Fconfig.py", "..%2Fweb.py", "%2Fetc%2Fpasswd", "..", "swagger-ui.css%00.js", "index.html"],
)
def test_docs_assets_refuse_path_traversal(client, name):
    response = client.http.get(f"/docs/assets/{name}")

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "NOT_FOUND"
    assert "import" not in response.body.decode()


def _gateway_event(path_name: str) -> dict:
    """The event API Gateway sends: it URL-decodes path parameters before Lambda sees them."""
    return {
        "resource": "/docs/assets/{name}",
        "path": f"/docs/assets/{path_name}",
        "httpMethod": "GET",
        "headers": {"Accept": "*/*"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"name": path_name},
        "stageVariables": None,
        "requestContext": {"resourcePath": "/docs/assets/{name}", "httpMethod": "GET", "requestId": "apigw-req-0001"},
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize("decoded", ["../../config.py", "../web.py", "/etc/passwd", "../static/swagger/../../web.py"])
def test_docs_assets_refuse_traversal_when_gateway_decodes_the_name(client, decoded):
    import app as app_module

    response = app_module.app(_gateway_event(decoded), None)

    assert response["statusCode"] == 404
    assert '"NOT_FOUND"' in response["body"]
    assert "import" not in response["body"]
    assert response["headers"]["X-Request-Id"] == "apigw-req-0001"


def test_docs_asset_is_served_when_gateway_sends_a_whitelisted_name(client):
    import app as app_module

    response = app_module.app(_gateway_event("swagger-ui.css"), None)

    assert response["statusCode"] == 200
    assert ".swagger-ui" in response["body"]
