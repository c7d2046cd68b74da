"""OpenAPI 3.1, generated from the route registry and the pydantic models.

``build(specs)`` is a pure function of a list of ``RouteSpec``; ``document()`` builds the
product's document from ``REGISTRY`` and keeps it until the registry changes.

All models are rendered in one pydantic pass (``models_json_schema``), so a model used
both as a request (validation mode) and a response (serialization mode) gets one
component per mode when the two differ, and shared sub-models are emitted once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from mamba.domain.pages import MAX_CURSOR_LENGTH, MAX_LIMIT
from mamba.routes import REGISTRY, RouteSpec
from mamba.schemas.common import ErrorOut, RemoteErrorOut

TITLE = "Mamba Host Panel API"
VERSION = "0.1.0"

_PARAM = re.compile(r"{([^}]+)}")
_REF_TEMPLATE = "#/components/schemas/{model}"
_ERRORS = {
    400: "The request is malformed or failed validation (VALIDATION_ERROR, BAD_REQUEST, CAPTCHA_FAILED, ...)",
    401: "Missing or invalid credentials (UNAUTHORIZED)",
    402: "The tenant is suspended for non-payment; it can be read but not changed (PAYMENT_REQUIRED)",
    403: "Authenticated but not allowed (FORBIDDEN, QUOTA_EXCEEDED, TENANT_LIMIT, EMAIL_NOT_VERIFIED, ...)",
    404: "Not found, or another tenant's resource (NOT_FOUND)",
    405: "Method not allowed on this path (METHOD_NOT_ALLOWED)",
    409: "Conflicts with the current state or with a concurrent change (CONFLICT, NO_CAPACITY, LAST_ADMIN, ...)",
    413: "The request body is too large (PAYLOAD_TOO_LARGE)",
    415: "The request body is not JSON (UNSUPPORTED_MEDIA_TYPE)",
    422: "Well-formed but refused: the node found the data invalid (WINGS_REJECTED), Stripe cannot sell a plan's "
    "price (PLAN_PRICE_INVALID)",
    429: "Too many requests (RATE_LIMITED); Retry-After says when to try again",
    500: "Unexpected error (INTERNAL)",
    503: "A dependency is unavailable: a node (NODE_UNAVAILABLE), the database (SERVICE_UNAVAILABLE, TRANSIENT); "
    "try again",
}
_BILLING_503 = "Billing is not enabled on this panel (BILLING_DISABLED), or a dependency is unavailable"
_REMOTE_ERRORS = {
    400: "Malformed credential, query or body (BadRequestHttpException)",
    401: "No node credential (UnauthorizedHttpException)",
    403: "Not this node's credential or resource (AccessDeniedHttpException)",
    404: "No such resource on this node (NotFoundHttpException)",
    409: "Conflicts with the resource's state (ConflictHttpException)",
    500: "Unexpected error; Wings retries (HttpException)",
    503: "A dependency is unavailable; Wings retries (HttpException)",
}
# Routes that read nothing outside the process: no dependency can make them answer 503.
_SELF_CONTAINED = frozenset({"/health/live", "/openapi.json", "/docs", "/docs/assets/{name}"})
_MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Routes whose change is made by the server's node during the request (Wings may answer 422).
_NODE_CALL = re.compile(r"/servers/\{server_id\}/(files/|power$|commands$)")

Mode = Literal["validation", "serialization"]


def _operation_id(spec: RouteSpec) -> str:
    return f"{spec.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', spec.path).strip('_')}"


def error_statuses(spec: RouteSpec) -> list[int]:
    """Every error status ``spec`` can answer, from what kind of route it is plus its own ``errors``:

    * every route: 400 (validation) and 500; 503 unless it reads nothing outside the process
      (DynamoDB throttled, a node down, billing off);
    * a route with a path parameter: 404 (no such resource, or another tenant's);
    * an authenticated route: 401, 403, 404 and 429 (API keys and sessions are rate limited);
    * a change (POST/PUT/PATCH/DELETE): 409 (a conditional write that lost to the current state
      or a concurrent change); on a tenant's path also 402 (suspended for non-payment);
    * a route with a JSON body: 415 (Chalice refuses another content type);
    * a change that a server's node carries out at once (its files, power, commands): 422 when
      Wings refuses the data as invalid (``WINGS_REJECTED``);
    * a Wings callback (/api/remote/*): 400, 401, 403, 404, 409, 500 and 503, in Pterodactyl's shape.
    """
    if spec.is_node:
        return sorted({400, 401, 403, 404, 409, 500, 503, *spec.errors} - set(spec.also) - {spec.status})
    statuses = {400, 500, *spec.errors}
    if spec.path not in _SELF_CONTAINED or spec.billing:
        statuses.add(503)
    if "{" in spec.path:
        statuses.add(404)
    if not spec.is_public:
        statuses |= {401, 403, 404, 429}
    if spec.method in _MUTATIONS:
        statuses.add(409)
        if spec.tenant_scoped and not spec.is_public:
            statuses.add(402)
    if spec.request_model is not None:
        statuses.add(415)
    if spec.method in _MUTATIONS and _NODE_CALL.search(spec.path):
        statuses.add(422)
    return sorted(statuses - set(spec.also) - {spec.status})


def _model_content(spec: RouteSpec, refs: dict[tuple[type[BaseModel], Mode], dict[str, Any]]) -> dict[str, Any]:
    if spec.response_model is not None:
        return {spec.content_type: {"schema": refs[(spec.response_model, "serialization")]}}
    if "yaml" in spec.content_type:
        # A YAML document (a node's config.yml) is a mapping once parsed, which is how clients read it.
        return {spec.content_type: {"schema": {"type": "object"}}}
    if spec.content_type != "application/json":
        return {spec.content_type: {"schema": {"type": "string"}}}
    return {}


# The query parameters every list shares, with the constraints PageRequest.from_query enforces
# (a route with a smaller maximum says so in its own checks; none has a larger one).
_QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    "cursor": {"type": "string", "maxLength": MAX_CURSOR_LENGTH},
}


def _query_schema(name: str) -> dict[str, Any]:
    return dict(_QUERY_SCHEMAS.get(name, {"type": "string"}))


def _model_query_schemas(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Each field of a query model as a parameter schema (by its alias). A field whose schema
    refers to another definition is left to the plain-string fallback: parameters stay inline."""
    schema = model.model_json_schema(by_alias=True)
    found: dict[str, dict[str, Any]] = {}
    for name, prop in schema.get("properties", {}).items():
        if "$ref" in json.dumps(prop):
            continue
        options = prop.get("anyOf")
        if options:  # `X | None`: a parameter that is absent, never a JSON null
            concrete = [o for o in options if o.get("type") != "null"]
            if len(concrete) != 1:
                continue
            prop = {**{k: v for k, v in prop.items() if k != "anyOf"}, **concrete[0]}
        found[name] = {k: v for k, v in prop.items() if k != "title" and not (k == "default" and v is None)}
    return found


def _success_content(spec: RouteSpec, refs: dict[tuple[type[BaseModel], Mode], dict[str, Any]]) -> dict[str, Any]:
    content = _model_content(spec, refs)
    # Other media types the route may answer with instead of its model (a ``?format=csv``).
    for media in spec.alternate_types:
        content[media] = {"schema": {"type": "string"}}
    return content


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
    modelled = _model_query_schemas(spec.query_model) if spec.query_model is not None else {}
    params += [
        {"name": q, "in": "query", "required": False, "schema": modelled.get(q) or _query_schema(q)} for q in spec.query
    ]
    if params:
        op["parameters"] = params
    if spec.request_model is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(spec.request_model, "validation")]}},
        }
    ok: dict[str, Any] = {"description": "Success"}
    content = _success_content(spec, refs)
    if content:
        ok["content"] = content
    responses: dict[str, Any] = {str(spec.status): ok}
    for status in spec.also:
        responses[str(status)] = {"description": "Answered with the same shape"}
        if content:
            responses[str(status)]["content"] = content
    if spec.is_node:
        error_content = {"application/json": {"schema": refs[(RemoteErrorOut, "serialization")]}}
        descriptions = _REMOTE_ERRORS
    else:
        error_content = {"application/json": {"schema": refs[(ErrorOut, "serialization")]}}
        descriptions = {**_ERRORS, 503: _BILLING_503} if spec.billing else _ERRORS
    for status in error_statuses(spec):
        responses[str(status)] = {"description": descriptions.get(status, "Error"), "content": error_content}
    op["responses"] = responses
    if spec.is_node:
        op["security"] = [{"nodeToken": []}]
    else:
        op["security"] = [] if spec.is_public else [{"bearerAuth": []}, {"apiKey": []}]
    return op


def build(specs: Iterable[RouteSpec], version: str = VERSION) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``specs``."""
    # Pterodactyl's door (/api/client, /api/application) speaks Pterodactyl's shapes, documented by
    # docs/pterodactyl-api.md and Pterodactyl's own reference, not by this document.
    ordered = sorted((s for s in specs if s.door is None), key=lambda s: (s.path, s.method))
    wanted: dict[tuple[type[BaseModel], Mode], None] = {
        (ErrorOut, "serialization"): None,
        (RemoteErrorOut, "serialization"): None,
    }
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
