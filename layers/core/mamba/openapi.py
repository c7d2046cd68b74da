"""OpenAPI 3.1, generated from the route registry and the pydantic models.

``build(specs)`` is a pure function of a list of ``RouteSpec``; ``document()`` builds the
product's document from ``REGISTRY`` and keeps it until the registry changes.

All models are rendered in one pydantic pass (``models_json_schema``), so a model used
both as a request (validation mode) and a response (serialization mode) gets one
component per mode when the two differ, and shared sub-models are emitted once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from mamba.routes import REGISTRY, RouteSpec
from mamba.schemas.common import ErrorOut

TITLE = "Mamba Host Panel API"
VERSION = "0.1.0"

_PARAM = re.compile(r"{([^}]+)}")
_REF_TEMPLATE = "#/components/schemas/{model}"
_ERRORS = {
    400: "Validation failed (VALIDATION_ERROR)",
    401: "Missing or invalid credentials (UNAUTHORIZED)",
    403: "Authenticated but not allowed (FORBIDDEN)",
    404: "Not found, or another tenant's resource (NOT_FOUND)",
    405: "Method not allowed on this path (METHOD_NOT_ALLOWED)",
    429: "Too many requests (RATE_LIMITED)",
    500: "Unexpected error (INTERNAL)",
    503: "Billing is not enabled on this panel (BILLING_DISABLED)",
}

Mode = Literal["validation", "serialization"]


def _operation_id(spec: RouteSpec) -> str:
    return f"{spec.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', spec.path).strip('_')}"


def _error_statuses(spec: RouteSpec) -> list[int]:
    if spec.is_node:
        return [400, 401, 403, 404, 500]
    statuses = [400, 500] if spec.is_public else [400, 401, 403, 404, 429, 500]
    if spec.billing:
        statuses.append(503)
    return statuses


def _operation(spec: RouteSpec, refs: dict[tuple[type[BaseModel], Mode], dict[str, Any]]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": spec.summary,
        "operationId": _operation_id(spec),
        "tags": list(spec.tags) or ["default"],
        "x-permission": spec.permission,
    }
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(spec.path)
    ]
    params += [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}} for q in spec.query]
    if params:
        op["parameters"] = params
    if spec.request_model is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(spec.request_model, "validation")]}},
        }
    ok: dict[str, Any] = {"description": "Success"}
    if spec.response_model is not None:
        ok["content"] = {spec.content_type: {"schema": refs[(spec.response_model, "serialization")]}}
    elif spec.content_type != "application/json":
        ok["content"] = {spec.content_type: {"schema": {"type": "string"}}}
    for media in spec.alternate_types:
        ok.setdefault("content", {})[media] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {str(spec.status): ok}
    error_content = {"application/json": {"schema": refs[(ErrorOut, "serialization")]}}
    for status in _error_statuses(spec):
        responses[str(status)] = {"description": _ERRORS[status], "content": error_content}
    op["responses"] = responses
    if spec.is_node:
        op["security"] = [{"nodeToken": []}]
    else:
        op["security"] = [] if spec.is_public else [{"bearerAuth": []}, {"apiKey": []}]
    return op


def build(specs: Iterable[RouteSpec], version: str = VERSION) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``specs``."""
    ordered = sorted(specs, key=lambda s: (s.path, s.method))
    wanted: dict[tuple[type[BaseModel], Mode], None] = {(ErrorOut, "serialization"): None}
    for spec in ordered:
        if spec.request_model is not None:
            wanted[(spec.request_model, "validation")] = None
        if spec.response_model is not None:
            wanted[(spec.response_model, "serialization")] = None
    refs, defs = models_json_schema(list(wanted), ref_template=_REF_TEMPLATE)

    paths: dict[str, Any] = {}
    for spec in ordered:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs)  # type: ignore[arg-type]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": version,
            "description": "Multi-tenant game-server hosting panel. Errors always have the shape "
            '`{"error": {"code", "message", "details"}, "request_id"}`, and every response '
            "carries an `X-Request-Id` header.",
        },
        # Relative to the document, so "Try it out" keeps an API Gateway stage prefix.
        "servers": [{"url": "."}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key (mhp_...) as a bearer token"},
                "nodeToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A Wings node's <token_id>.<token> (the /api/remote callbacks only)",
                },
            },
        },
    }


_cache: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}


def document() -> dict[str, Any]:
    """The product's document, rebuilt only when the set of registered routes changes."""
    key = tuple(spec.key for spec in REGISTRY)
    if key not in _cache:
        _cache.clear()
        _cache[key] = build(REGISTRY)
    return _cache[key]
