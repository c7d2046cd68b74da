"""The HTTP boundary shared by every door: route declaration, request parsing, the
one error shape and request ids.

Every panel route is declared with ``route(...)``, which records a ``RouteSpec`` in the
route registry (``mamba.routes``: the source of the OpenAPI document and of the
route-walking security test) and wraps the view so that, in this order:

* a billing route answers 503 ``BILLING_DISABLED`` while billing is off;
* the route's single permission is enforced (or the route is explicitly public);
* the JSON body is parsed from the raw bytes and validated by the route's pydantic model;
* the view's result is sent through the route's response model (``serialise``): only what
  the OpenAPI document describes leaves, and a result it cannot describe is a 500;
* any ``DomainError`` becomes ``{"error": {code, message, details}, "request_id"}`` with the
  status its class carries, and any other exception becomes 500 ``INTERNAL`` (logged with
  its traceback, never returned);
* every mutation and every denial of a non-public route leaves an audit entry
  (``mamba.web_audit``), without ever changing the answer.

``http_middleware`` (registered on the app) gives every response an ``X-Request-Id`` and
the log context of its request, and gives the answers Chalice makes itself (405, 415,
its own 500, including debug-mode traceback text) the same error shape.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice.app import ChaliceViewError, Response
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from mamba import observability
from mamba.domain.errors import (
    BillingDisabledError,
    ConflictError,
    DomainError,
    ForbiddenError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from mamba.observability import current_request_id, logger
from mamba.routes import NODE, PUBLIC, REGISTRY, RouteSpec, register, registry_scope

if TYPE_CHECKING:
    from chalice.app import Blueprint, Chalice, Request

    from mamba.auth.context import Principal, TenantContext

__all__ = [
    "NODE",
    "PUBLIC",
    "REGISTRY",
    "REQUEST_ID_HEADER",
    "Ctx",
    "InternalError",
    "Reply",
    "ResponseShapeError",
    "RouteSpec",
    "current_request_id",
    "error_body",
    "error_response",
    "http_middleware",
    "json_response",
    "parse_body",
    "registry_scope",
    "route",
    "serialise",
    "with_fields",
]

REQUEST_ID_HEADER = "X-Request-Id"
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class InternalError(DomainError):
    """Anything unexpected. The body says only this; the log has the traceback."""

    status = 500
    code = "INTERNAL"

    def __init__(self) -> None:
        super().__init__("An internal error occurred.")


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
    def user_id(self) -> str:
        """The verified caller of a route the guard authorized (public routes have none)."""
        if self.principal is None:
            raise UnauthorizedError("This route needs a signed-in caller.", {})
        return self.principal.user_id

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params or {})

    @property
    def source_ip(self) -> str:
        identity = (self.request.context or {}).get("identity") or {}
        return str(identity.get("sourceIp") or "")


def error_body(error: DomainError, request_id: str) -> dict[str, Any]:
    return {
        "error": {"code": error.code, "message": error.message, "details": error.details},
        "request_id": request_id,
    }


Headers = dict[str, str | list[str]]


def error_response(error: DomainError, headers: Headers | None = None) -> Response:
    """The one translation of an error into HTTP: status and code come from the error's class."""
    request_id = current_request_id()
    all_headers: Headers = {**(headers or {}), REQUEST_ID_HEADER: request_id, "Content-Type": "application/json"}
    if isinstance(error, RateLimitedError):
        all_headers["Retry-After"] = str(error.retry_after)
    return Response(body=error_body(error, request_id), status_code=error.status, headers=all_headers)


def json_response(body: Any, status: int = 200, headers: Headers | None = None) -> Response:
    return _serialised_response(_jsonable(body), status, headers)


def _serialised_response(body: Any, status: int, headers: Headers | None = None) -> Response:
    """A body ``serialise`` made (JSON types only already): not walked a second time."""
    all_headers: Headers = {"Content-Type": "application/json", **(headers or {})}
    return Response(body=body, status_code=status, headers=all_headers)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class Reply:
    """A view's result when the route's status or headers vary per request: ``body`` still goes
    through the route's response model (a view of a route with a ``response_model`` never
    returns a raw ``Response``). ``exclude`` names top-level fields this answer leaves out (a
    refresh token that went into a cookie instead)."""

    body: Any
    status: int | None = None
    headers: Headers | None = None
    exclude: frozenset[str] = frozenset()


class _WithFields:
    """A record as a response model reads it (by attribute), with a few more attributes."""

    __slots__ = ("_fields", "_record")

    def __init__(self, record: object, fields: dict[str, Any]) -> None:
        self._record = record
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        if name in self._fields:
            return self._fields[name]
        return getattr(self._record, name)


def with_fields(record: object, **fields: Any) -> Any:
    """``record`` plus ``fields``, for an answer that shows next to a record what the record
    does not hold (a node's health); the route's response model picks what it declares."""
    return _WithFields(record, fields)


class ResponseShapeError(Exception):
    """A view returned what its route's response model cannot describe: a bug, answered 500."""


def serialise(spec: RouteSpec, result: Any, exclude: frozenset[str] = frozenset()) -> Any:
    """The JSON body of a successful answer.

    With a response model, the result (a domain record, a dict, a model, or a mix) is
    validated by the model, reading attributes of records (``from_attributes``) and ignoring
    whatever the model does not declare, then dumped in JSON mode: only what the OpenAPI
    document describes is sent, and a result the model cannot describe is a
    ``ResponseShapeError`` (a 500), never a different shape on the wire.
    """
    model = spec.response_model
    if model is None:
        return _jsonable(result)
    try:
        shaped = model.model_validate(result, from_attributes=True, extra="ignore")
    except PydanticValidationError as exc:
        fields = [".".join(str(p) for p in e["loc"]) for e in exc.errors(include_url=False, include_input=False)]
        raise ResponseShapeError(f"{spec.method} {spec.path}: {model.__name__} rejects the result at {fields}") from exc
    return shaped.model_dump(mode="json", by_alias=True, exclude=set(exclude) or None)


def validation_details(exc: PydanticValidationError) -> dict[str, Any]:
    """The failing fields, without the submitted values (they may be passwords)."""
    return {
        "fields": [
            {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
    }


def parse_body(request: Request, model: type[BaseModel]) -> BaseModel:
    """Parse the raw body as JSON and validate it; 400 VALIDATION_ERROR on any failure.

    The raw bytes are parsed here rather than through ``request.json_body`` so that a
    malformed body is a 400 in our shape, not Chalice's BadRequestError.
    """
    raw = request.raw_body or b""
    if not raw.strip():
        payload: Any = {}
    else:
        try:
            payload = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            where = {"line": exc.lineno, "column": exc.colno} if isinstance(exc, json.JSONDecodeError) else {}
            raise ValidationError(
                "The request body is not valid JSON.",
                {"fields": [{"field": "body", "message": "not valid JSON", "type": "json_invalid", **where}]},
            ) from exc
    if not isinstance(payload, dict):
        raise ValidationError(
            "The request body must be a JSON object.",
            {"fields": [{"field": "body", "message": "must be a JSON object", "type": "object_type"}]},
        )
    try:
        return model.model_validate(payload)
    except PydanticValidationError as exc:
        raise ValidationError("The request body failed validation.", validation_details(exc)) from exc


def parse_query[M: BaseModel](request: Request, model: type[M]) -> M:
    """Validate the query string with ``model``; 400 VALIDATION_ERROR naming the bad parameters."""
    try:
        return model.model_validate(dict(request.query_params or {}))
    except PydanticValidationError as exc:
        raise ValidationError("The query string failed validation.", validation_details(exc)) from exc


def _check_billing_enabled() -> None:
    from mamba import bootstrap

    if not bootstrap.settings().billing_enabled:
        raise BillingDisabledError("Billing is not enabled on this panel.")


def route(
    bp: Blueprint | Chalice,
    path: str,
    method: str,
    *,
    permission: str,
    summary: str,
    tags: tuple[str, ...] = (),
    request_model: type[BaseModel] | str | None = None,
    response_model: type[BaseModel] | str | None = None,
    status: int = 200,
    query: tuple[str, ...] | type[BaseModel] | str = (),
    content_type: str = "application/json",
    billing: bool = False,
    alternate_types: tuple[str, ...] = (),
    errors: tuple[int, ...] = (),
    also: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route with exactly one permission (or ``PUBLIC``) and register it.

    ``billing=True`` marks a billing route: while ``BILLING_ENABLED`` is off it answers 503
    ``BILLING_DISABLED`` before authentication or parsing. ``errors`` names the error statuses
    the route answers beyond those of its kind (``mamba.openapi.error_statuses``), ``also`` the
    statuses answered with the response model besides ``status``. ``query`` names the query
    parameters, or is the model the view parses them with (``parse_query``), which the OpenAPI
    document then describes with its types and constraints. Models are given by name
    (``"servers:ServerOut"``, see ``mamba.routes.resolve_model``) so that ``import app`` builds
    none of them; the route builds its own on its first call. Raises ValueError for a missing
    or unknown permission, or a (method, path) that is already registered.
    """
    method = method.upper()
    if not permission:
        raise ValueError(f"{method} {path} declares no permission")
    if permission not in (PUBLIC, NODE):
        from mamba.domain.permissions import CATALOGUE

        if permission not in CATALOGUE:
            raise ValueError(f"{method} {path} declares unknown permission {permission!r}")
    query_model: type[BaseModel] | str | None = None
    if not isinstance(query, tuple):  # the view's query model: its fields are the parameters
        query_model, query = query, ()
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
        query_model=query_model,
        content_type=content_type,
        billing=billing,
        alternate_types=alternate_types,
        errors=errors,
        also=also,
    )
    register(spec)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        def handler(**path_params: str) -> Response:
            request = bp.current_request
            principal: Principal | None = None
            stage = "start"  # then "guard", then "view": where a failure happened, for the audit trail
            try:
                if request is None:  # Chalice sets it before calling a view
                    raise RuntimeError(f"no current request for {spec.method} {spec.path}")
                if spec.billing:
                    _check_billing_enabled()
                stage = "guard"
                if not spec.is_public and not spec.is_node:
                    from mamba import bootstrap
                    from mamba.auth.guard import authorize

                    principal = authorize(request, spec.permission, path_params, bootstrap.guard_ports())
                stage = "view"
                ctx = Ctx(request=request, request_id=current_request_id(), principal=principal)
                request_model = spec.request_model
                if request_model is not None:
                    ctx.body = parse_body(request, request_model)
                result = view(ctx, **path_params)
                if isinstance(result, Response):
                    # A success on a route with a response model goes through the model (a Reply
                    # when it needs its own status or headers); a view may still answer an error.
                    if spec.has_response_model and result.status_code < 400 and not _is_alternate(spec, result):
                        raise ResponseShapeError(
                            f"{spec.method} {spec.path} has a response model: return a Reply, not a Response"
                        )
                elif isinstance(result, Reply):
                    result = _serialised_response(
                        serialise(spec, result.body, result.exclude), result.status or spec.status, result.headers
                    )
                else:
                    result = serialise(spec, result)
            except DomainError as exc:
                _audit(spec, view.__name__, request, path_params, principal, stage, exc, None)
                return error_response(_for_caller(spec, exc))
            except ChaliceViewError:
                raise  # Chalice answers these itself; http_middleware reshapes them
            except Exception:  # noqa: BLE001 - the boundary: logged with its traceback, answered as INTERNAL
                logger.exception("unhandled error", extra={"route": f"{spec.method} {spec.path}"})
                _audit(spec, view.__name__, request, path_params, principal, stage, InternalError(), None)
                return error_response(InternalError())
            # The audit step sees the answer as sent (the serialised body, or the Response).
            _audit(spec, view.__name__, request, path_params, principal, stage, None, result)
            if isinstance(result, Response):
                return result
            return _serialised_response(result, spec.status)

        handler.__name__ = view.__name__
        handler.__doc__ = view.__doc__
        bp.route(path, methods=[method])(handler)
        return view

    return decorate


def _is_alternate(spec: RouteSpec, response: Response) -> bool:
    """A success in one of the route's declared other media types (a CSV of the same data)."""
    media = str((response.headers or {}).get("Content-Type", "")).split(";")[0].strip()
    return media in spec.alternate_types


def _for_caller(spec: RouteSpec, error: DomainError) -> DomainError:
    """The error as this route's caller may see it: outside the admin (and Wings) routes, its
    details lose node ids, names and placement counts (mamba.redaction); the log keeps them."""
    from mamba import redaction

    if spec.is_node or spec.permission.startswith("admin.") or not redaction.reveals_nodes(error.details):
        return error
    logger.info("error details withheld from a tenant caller", extra={"code": error.code, "details": error.details})
    # In place: the error was audited already and is answered once, by this request only.
    error.details = redaction.strip(error.details)
    return error


def _audit(
    spec: RouteSpec,
    action: str,
    request: Request | None,
    path_params: dict[str, str],
    principal: Principal | None,
    stage: str,
    error: DomainError | None,
    result: Any,
) -> None:
    """Every mutation and every denial of a route the guard authorizes leaves an audit entry
    (``mamba.web_audit``). Public and Wings (node) routes record their own events. A
    successful read returns here without importing anything."""
    from mamba.domain.permissions import CATALOGUE

    if spec.permission not in CATALOGUE or request is None or stage == "start":
        return
    if error is None and spec.method in ("GET", "HEAD"):
        return
    from mamba import bootstrap
    from mamba.web_audit import AuditSink, audit_call

    sink = AuditSink(log=bootstrap.audit_log, jwt_secret=lambda: bootstrap.settings().jwt_secret)
    audit_call(spec, action, request, path_params, principal, stage, error, result, sink)


# Chalice answers some requests itself, with a body shaped {"Code", "Message"}: a wrong
# method, a wrong content type, a ChaliceViewError raised by a view. Each gets our shape.
_CHALICE_CODES: dict[str, type[DomainError]] = {
    "MethodNotAllowedError": MethodNotAllowedError,
    "UnsupportedMediaType": UnsupportedMediaTypeError,
    "BadRequestError": ValidationError,
    "BadRequest": ValidationError,
    "UnauthorizedError": UnauthorizedError,
    "ForbiddenError": ForbiddenError,
    "NotFoundError": NotFoundError,
    "ConflictError": ConflictError,
    "EntityTooLargeError": PayloadTooLargeError,
}


def _is_chalice_error(body: Any) -> bool:
    return isinstance(body, dict) and set(body) == {"Code", "Message"}


def _reshape(response: Response) -> Response:
    """Give an answer Chalice made itself our error shape; leave ours alone.

    A 5xx whose body is not a JSON object of ours (Chalice's own 500, or the traceback text
    Chalice returns in debug mode) becomes INTERNAL, so no exception text reaches a client.
    A deliberate 5xx with a JSON body (``/health/ready``'s 503) is kept.
    """
    body = response.body
    if response.status_code >= 500 and (_is_chalice_error(body) or not isinstance(body, dict)):
        logger.error("internal error answered by the framework", extra={"status": response.status_code})
        error: DomainError = InternalError()
    elif _is_chalice_error(body):
        error = _CHALICE_CODES.get(str(body["Code"]), DomainError)(str(body["Message"]))
    else:
        return response
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-type", "content-length")}
    reshaped = error_response(error, headers)
    reshaped.status_code = response.status_code
    return reshaped


def _incoming_request_id(request: Request | None) -> str:
    """The caller's X-Request-Id when it is safe to echo, else API Gateway's id, else a new one."""
    if request is not None:
        given = request.headers.get(REQUEST_ID_HEADER)
        if given and SAFE_REQUEST_ID.match(given):
            return str(given)
        context_id = (request.context or {}).get("requestId")
        if context_id and SAFE_REQUEST_ID.match(str(context_id)):
            return str(context_id)
    return str(uuid.uuid4())


def http_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    request_id = _incoming_request_id(event)
    started = time.perf_counter()
    with observability.request_context(request_id):
        try:
            response = get_response(event)
        except Exception:  # noqa: BLE001 - views never get here (see route); this is the framework failing
            logger.exception("unhandled error outside the view")
            response = error_response(InternalError())
        response = _reshape(response)
        response.headers[REQUEST_ID_HEADER] = request_id
        logger.info(
            "request",
            extra={
                "method": getattr(event, "method", ""),
                "path": getattr(event, "path", ""),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response
