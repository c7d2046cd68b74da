"""make run's one port: local.static_site installed on the real app's local gateway."""

from __future__ import annotations

from pathlib import Path

from local import static_site
from local.static_site import StaticSite


def test_installed_gateway_serves_the_app_and_adds_headers_to_api_answers(tmp_path: Path, monkeypatch, client):
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>panel</title>")
    site = StaticSite(root=dist, connect_src=lambda: ["ws://127.0.0.1:8081"])
    # Given the real app with the static site installed (undone after the test)
    from chalice import local as chalice_local

    monkeypatch.setattr(chalice_local.LocalGateway, "handle_request", chalice_local.LocalGateway.handle_request)
    monkeypatch.setattr(static_site, "_INSTALLED", [])
    static_site.install(site)

    # When a browser asks for an app route, an API route and an unknown API path
    page = client.http.get("/tenants/tn_1/servers")
    live = client.http.get("/health/live")
    unknown = client.http.get("/v1/no-such-thing")

    # Then the app comes from dist, the API still answers JSON, and both carry the headers
    assert page.status_code == 200 and page.body.startswith(b"<!doctype html>")
    assert live.status_code == 200 and live.json_body == {"status": "ok"}
    assert unknown.status_code == 404 and unknown.json_body["error"]["code"] == "NOT_FOUND"
    for response in (page, live, unknown):
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
