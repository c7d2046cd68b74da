"""The HTTP boundary shared by every door: route declaration, request parsing, the
one error shape and request ids.

Every panel route is declared with ``route(...)``, which records a ``RouteSpec`` in
``REGISTRY`` (the source of the OpenAPI document and of the route-walking security
test) and wraps the view so that:

* the route's single permission is enforced (or the route is explicitly public);
* the JSON body is parsed from the raw bytes and validated by the route's pydantic model;
* any ``DomainError`` becomes ``{"error": {code, message, details}, "request_id"}``.

``http_middleware`` (registered on the app) gives every response, including Chalice's
own 405/415 answers and unexpected exceptions, the same shape and an ``X-Request-Id``.
"""

from __future__ import annotations

import contextvars
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalice import Response
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from mamba.domain.errors import (
    DomainError,
    ForbiddenError,
    MethodNotAllowedError,
    RateLimitedError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from mamba.observability import logger

if TYPE_CHECKING:
    from chalice import Blueprint, Chalice
    from chalice.app import Request

    from mamba.auth.context import Principal, TenantContext

REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

PUBLIC = "public"


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    permission: str  # a catalogue permission, or PUBLIC
    summary: str
    tags: tuple[str, ...] = ()
    request_model: type[BaseModel] | None = None
    response_model: type[BaseModel] | None = None
    status: int = 200
    query: tuple[str, ...] = ()
    content_type: str = "application/json"
    extra_responses: dict[int, str] = field(default_factory=dict)

    @property
    def is_public(self) -> bool:
        return self.permission == PUBLIC

    @property
    def tenant_scoped(self) -> bool:
        return "{tenant_id}" in self.path


REGISTRY: list[RouteSpec] = []


@dataclass
class Ctx:
    """What a view gets besides its path parameters."""

    request: Request
    request_id: str
    principal: Principal | None
    body: Any = None

    @property
    def tenant(self) -> TenantContext:
        """The verified tenant of a tenant-scoped route (set by the guard, never by the body)."""
        if self.principal is None or self.principal.tenant is None:
            raise ForbiddenError("This route needs a tenant.")
        return self.principal.tenant

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params or {})

    @property
    def source_ip(self) -> str:
        identity = (self.request.context or {}).get("identity") or {}
        return str(identity.get("sourceIp") or "")


def current_request_id() -> str:
    return _request_id.get() or ""


def error_body(error: DomainError, request_id: str) -> dict[str, Any]:
    return {
        "error": {"code": error.code, "message": error.message, "details": error.details},
        "request_id": request_id,
    }


def error_response(error: DomainError) -> Response:
    request_id = current_request_id()
    headers = {REQUEST_ID_HEADER: request_id, "Content-Type": "application/json"}
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(error.retry_after)
    return Response(body=error_body(error, request_id), status_code=error.status, headers=headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return Response(body=_jsonable(body), status_code=status, headers=all_headers)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def validation_details(exc: PydanticValidationError) -> dict[str, Any]:
    fields = []
    for err in exc.errors(include_url=False, include_input=False):
        fields.append({"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"], "type": err["type"]})
    return {"fields": fields}


def parse_body(request: Request, model: type[BaseModel]) -> BaseModel:
    """Parse the raw body as JSON and validate it; 400 VALIDATION_ERROR on any failure."""
    raw = request.raw_body or b""
    if not raw.strip():
        payload: Any = {}
    else:
        try:
            payload = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValidationError(
                "The request body is not valid JSON.", {"fields": [{"field": "body", "message": str(exc)}]}
            ) from exc
    if not isinstance(payload, dict):
        raise ValidationError("The request body must be a JSON object.", {"fields": [{"field": "body"}]})
    try:
        return model.model_validate(payload)
    except PydanticValidationError as exc:
        raise ValidationError("The request body failed validation.", validation_details(exc)) from exc


def route(
    bp: Blueprint | Chalice,
    path: str,
    method: str,
    *,
    permission: str,
    summary: str,
    tags: tuple[str, ...] = (),
    request_model: type[BaseModel] | None = None,
    response_model: type[BaseModel] | None = None,
    status: int = 200,
    query: tuple[str, ...] = (),
    content_type: str = "application/json",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route with exactly one permission (or ``PUBLIC``) and register it."""
    if not permission:
        raise ValueError(f"{method} {path} declares no permission")
    if permission != PUBLIC:
        from mamba.auth.permissions import CATALOGUE

        if permission not in CATALOGUE:
            raise ValueError(f"{method} {path} declares unknown permission {permission!r}")
    spec = RouteSpec(
        path=path,
        method=method,
        permission=permission,
        summary=summary,
        tags=tags,
        request_model=request_model,
        response_model=response_model,
        status=status,
        query=query,
        content_type=content_type,
    )
    REGISTRY.append(spec)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        def handler(**path_params: str) -> Response:
            request = bp.current_request
            try:
                principal = None
                if not spec.is_public:
                    from mamba.auth.guard import authorize

                    principal = authorize(request, spec.permission, path_params)
                ctx = Ctx(request=request, request_id=current_request_id(), principal=principal)
                if spec.request_model is not None:
                    ctx.body = parse_body(request, spec.request_model)
                result = view(ctx, **path_params)
            except DomainError as exc:
                return error_response(exc)
            if isinstance(result, Response):
                return result
            return json_response(result, status=spec.status)

        handler.__name__ = view.__name__
        handler.__doc__ = view.__doc__
        bp.route(path, methods=[method])(handler)
        return view

    return decorate


# Chalice answers some requests itself (wrong method, wrong content type); give those the
# same shape as ours. A body shaped {"Code", "Message"} is Chalice's.
_CHALICE_CODES: dict[str, type[DomainError]] = {
    "MethodNotAllowedError": MethodNotAllowedError,
    "UnsupportedMediaType": UnsupportedMediaTypeError,
    "BadRequestError": ValidationError,
    "BadRequest": ValidationError,
}


def _incoming_request_id(request: Request | None) -> str:
    if request is not None:
        given = request.headers.get(REQUEST_ID_HEADER.lower()) or request.headers.get(REQUEST_ID_HEADER)
        if given and _SAFE_REQUEST_ID.match(given):
            return given
        context_id = (request.context or {}).get("requestId")
        if context_id and _SAFE_REQUEST_ID.match(str(context_id)):
            return str(context_id)
    return str(uuid.uuid4())


def http_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    request_id = _incoming_request_id(event)
    token = _request_id.set(request_id)
    logger.append_keys(request_id=request_id)
    try:
        try:
            response = get_response(event)
        except Exception:  # the one place an unexpected error becomes a 500
            logger.exception("unhandled error", extra={"path": getattr(event, "path", "")})
            response = error_response(DomainError("An internal error occurred.", {}))
            response.status_code = 500
            response.body = {
                "error": {"code": "INTERNAL", "message": "An internal error occurred.", "details": {}},
                "request_id": request_id,
            }
        body = response.body
        if isinstance(body, dict) and set(body) == {"Code", "Message"}:
            if response.status_code >= 500:
                logger.error("internal error", extra={"chalice_code": body["Code"]})
                response.body = {
                    "error": {"code": "INTERNAL", "message": "An internal error occurred.", "details": {}},
                    "request_id": request_id,
                }
            else:
                error_cls = _CHALICE_CODES.get(str(body["Code"]), DomainError)
                err = error_cls(str(body["Message"]))
                response.body = error_body(err, request_id)
            response.headers["Content-Type"] = "application/json"
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    finally:
        logger.remove_keys(["request_id"])
        _request_id.reset(token)
