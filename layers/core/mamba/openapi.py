"""OpenAPI 3.1, generated from the route registry and the pydantic models."""

from __future__ import annotations

import functools
import re
from typing import Any

from mamba.schemas.common import ErrorOut
from mamba.web import REGISTRY, RouteSpec

_PARAM = re.compile(r"{([^}]+)}")
_ERRORS = {
    400: "Validation failed (VALIDATION_ERROR)",
    401: "Missing or invalid credentials (UNAUTHORIZED)",
    403: "Authenticated but not allowed (FORBIDDEN)",
    404: "Not found, or another tenant's resource (NOT_FOUND)",
    429: "Too many requests (RATE_LIMITED)",
    500: "Unexpected error (INTERNAL)",
}


def _schema_ref(model: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(spec: RouteSpec, components: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": spec.summary,
        "operationId": f"{spec.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', spec.path).strip('_')}",
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
            "content": {"application/json": {"schema": _schema_ref(spec.request_model, components)}},
        }
    ok: dict[str, Any] = {"description": "Success"}
    if spec.response_model is not None:
        ok["content"] = {spec.content_type: {"schema": _schema_ref(spec.response_model, components)}}
    elif spec.content_type != "application/json":
        ok["content"] = {spec.content_type: {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(spec.status): ok}
    error_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    wanted = [400, 500] if spec.is_public else [400, 401, 403, 404, 429, 500]
    for status in wanted:
        responses[str(status)] = {"description": _ERRORS[status], "content": error_ref}
    op["responses"] = responses
    if not spec.is_public:
        op["security"] = [{"bearerAuth": []}, {"apiKey": []}]
    return op


@functools.cache
def document(version: str = "0.1.0") -> dict[str, Any]:
    components: dict[str, Any] = {}
    _schema_ref(ErrorOut, components)
    paths: dict[str, Any] = {}
    for spec in sorted(REGISTRY, key=lambda s: (s.path, s.method)):
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mamba Host Panel API",
            "version": version,
            "description": "Multi-tenant game-server hosting panel. Errors always have the shape "
            '`{"error": {"code", "message", "details"}, "request_id"}`.',
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key (mhp_...) as a bearer token"},
            },
        },
    }
