"""The application API's world: tests/api/security_world.py's accounts (``usr_root`` the platform
admin) plus application keys minted through ``POST /v1/admin/application-keys``."""

from __future__ import annotations

import json
from typing import Any

from tests.api.security_world import World, bearer

RESOURCES = ("users", "nodes", "allocations", "locations", "servers", "nests", "eggs")


def application_key(client: Any, world: World, default: str = "read-write", **rights: str) -> str:
    """A ``ptla_`` key of ``usr_root`` with ``default`` on every resource except those named."""
    body = {"name": "billing", "permissions": {**dict.fromkeys(RESOURCES, default), **rights}}
    made = client.http.post("/v1/admin/application-keys", headers=world.headers("root"), body=json.dumps(body))
    assert made.status_code == 201, made.json_body
    return str(made.json_body["key"])


class Api:
    """``/api/application`` with one key, JSON in and out."""

    def __init__(self, client: Any, key: str) -> None:
        self.client = client
        self.headers = {**bearer(key), "Accept": "application/json"}

    def get(self, path: str) -> Any:
        return self.client.http.get(f"/api/application{path}", headers=self.headers)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.http.post(f"/api/application{path}", headers=self.headers, body=json.dumps(body or {}))

    def patch(self, path: str, body: Any) -> Any:
        return self.client.http.patch(f"/api/application{path}", headers=self.headers, body=json.dumps(body))

    def delete(self, path: str) -> Any:
        return self.client.http.delete(f"/api/application{path}", headers=self.headers)
