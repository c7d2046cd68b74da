"""Make the local API Gateway answer like the deployed one for unknown routes.

Deployed, infra sets API Gateway's MISSING_AUTHENTICATION_TOKEN gateway response to
404 with the panel's error shape. Chalice's local gateway answers 403 "Missing
Authentication Token" instead; this patch gives ``chalice local`` and
``chalice.test.Client`` the deployed behaviour.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from chalice import local as chalice_local

from mamba.web import SAFE_REQUEST_ID

_PATCHED = False


def not_found_response(path: str, headers: dict[str, str]) -> dict[str, Any]:
    given = headers.get("x-request-id") or headers.get("X-Request-Id") or ""
    # The same rule as the app's middleware: only a well-formed incoming id is echoed.
    request_id = given if SAFE_REQUEST_ID.match(given) else str(uuid.uuid4())
    body = {
        "error": {"code": "NOT_FOUND", "message": "No such route.", "details": {"path": path.split("?")[0]}},
        "request_id": request_id,
    }
    return {
        "statusCode": 404,
        "headers": {"Content-Type": "application/json", "X-Request-Id": request_id},
        "multiValueHeaders": {},
        "body": json.dumps(body),
    }


def install() -> None:
    global _PATCHED
    if _PATCHED:
        return
    original = chalice_local.LocalGateway.handle_request

    def handle_request(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        try:
            self._generate_lambda_event(method, path, headers, body)
        except ValueError:
            return not_found_response(path, dict(headers))
        return original(self, method, path, headers, body)

    chalice_local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]
    _PATCHED = True
