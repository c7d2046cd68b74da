"""Pterodactyl's door: ``/api/client`` and ``/api/application`` onto the same services.

Every route of the door is declared with ``ptero_route(...)``. It records a ``RouteSpec`` (with
``door`` set, so the route walk covers it and the OpenAPI document leaves it to
docs/pterodactyl-api.md) and wraps the view so that:

* the **client** API takes a user's credential (a ``ptlc_`` or ``mhp_`` key, or an access token)
  through the same guard as /v1: a ``{server}`` in the path (its 8-character identifier or its
  uuid) is resolved to its tenant first, so membership, the key's scopes and servers, a
  subuser's binding, suspension and the tenant's 2FA rule apply exactly as on /v1, and another
  user's server answers 404; an application key answers 403;
* the **application** API takes only an application key (``ptla_``) of an active platform admin
  whose right on the route's resource allows the method (read for GET, read-write otherwise);
  any other valid credential answers 403;
* the body is parsed by the route's model, and a failure is Pterodactyl's 422 naming each field;
* any ``DomainError`` becomes ``{"errors": [{"code", "status", "detail"}]}`` with Pterodactyl's
  status, anything else a 500 in that shape (logged, never returned);
* changes and refusals are audited as on /v1 (``mamba.web._audit``), under the route's catalogue
  permission.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalice.app import Response
from pydantic import BaseModel

from mamba.domain.errors import DomainError, ForbiddenError, NotFoundError, UnauthorizedError
from mamba.domain.permissions import CATALOGUE
from mamba.observability import current_request_id, logger
from mamba.routes import RouteSpec, register
from mamba.web import REQUEST_ID_HEADER, InternalError, Reply, parse_body

if TYPE_CHECKING:
    from chalice.app import Blueprint, Request

    from mamba.auth.context import Principal
    from mamba.domain.pterodactyl import IdRef

CLIENT = "client"
APPLICATION = "application"
CLIENT_PREFIX = "/api/client"
APPLICATION_PREFIX = "/api/application"
NOT_FOUND_DETAIL = "The requested resource could not be found on the server."


@dataclass
class PteroCtx:
    """What a door view gets besides its path parameters."""

    request: Request
    request_id: str
    principal: Principal
    # The path's {server}, resolved: its uuid (``ref``), tenant (``scope``) and integer id.
    server: IdRef | None = None
    body: Any = None
    # An application key's rights, resource → right (empty on the client API): an include re-checks
    # its own resource against them, as Pterodactyl does, without reading the key again.
    rights: dict[str, str] = field(default_factory=dict)

    def may_read(self, resource: str) -> bool:
        """Whether the calling application key may read ``resource`` (for ``?include=``)."""
        from mamba.domain.pterodactyl import right_allows

        return right_allows(self.rights.get(resource), False)

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params or {})

    @property
    def user_id(self) -> str:
        return self.principal.user_id

    @property
    def tenant_id(self) -> str:
        """The tenant of the path's server (client API server routes only)."""
        if self.server is None or self.server.scope is None:
            raise NotFoundError("This route has no server.", {})
        return self.server.scope

    @property
    def source_ip(self) -> str:
        identity = (self.request.context or {}).get("identity") or {}
        return str(identity.get("sourceIp") or "")


def error_response(error: DomainError) -> Response:
    from mamba.domain.pterodactyl import error_body, error_status

    headers: dict[str, str | list[str]] = {"Content-Type": "application/json", REQUEST_ID_HEADER: current_request_id()}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(body=error_body(error), status_code=error_status(error), headers=headers)


def ptero_route(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    permission: str,
    summary: str,
    resource: str | None = None,
    request_model: type[BaseModel] | str | None = None,
    status: int = 200,
    content_types: tuple[str, ...] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route of Pterodactyl's door. ``path`` starts with /api/client or /api/application;
    ``permission`` is the catalogue permission the same action needs on /v1 (client: a tenant or
    account permission; application: an ``admin.*`` one); ``resource`` is the application key
    resource the route reads or writes (application API only); ``content_types`` are the request
    bodies it takes besides JSON (a raw file for ``files/write``)."""
    method = method.upper()
    if path.startswith(APPLICATION_PREFIX):
        door = APPLICATION
        if resource is None:
            raise ValueError(f"{method} {path}: an application route names its resource")
    elif path.startswith(CLIENT_PREFIX):
        door = CLIENT
    else:
        raise ValueError(f"{method} {path} is not under {CLIENT_PREFIX} or {APPLICATION_PREFIX}")
    if permission not in CATALOGUE:
        raise ValueError(f"{method} {path} declares unknown permission {permission!r}")
    spec = RouteSpec(
        path=path,
        method=method,
        permission=permission,
        summary=summary,
        tags=(f"pterodactyl-{door}",),
        request_model=request_model,
        status=status,
        door=door,
        resource=resource,
    )
    register(spec)
    writes = method not in ("GET", "HEAD")

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        def handler(**path_params: str) -> Response:
            from mamba.web import _audit

            request = bp.current_request
            principal: Principal | None = None
            stage = "guard"
            # What the audit entry is filed under: a client route's server's tenant, once resolved, so a
            # change or refusal lands in that tenant's log exactly as the same /v1 route's would.
            audited = dict(path_params)
            try:
                if request is None:  # Chalice sets it before calling a view
                    raise RuntimeError(f"no current request for {spec.method} {spec.path}")
                rights: dict[str, str] = {}
                if door == APPLICATION:
                    assert resource is not None
                    principal, rights = _application_principal(request, resource, writes)
                    server = None
                else:
                    principal, server = _client_principal(request, spec.permission, path_params, audited)
                stage = "view"
                ctx = PteroCtx(
                    request=request, request_id=current_request_id(), principal=principal, server=server, rights=rights
                )
                if spec.request_model is not None:
                    ctx.body = parse_body(request, spec.request_model)
                result = view(ctx, **path_params)
                response = _response(result, spec.status)
            except DomainError as exc:
                _audit(spec, view.__name__, request, audited, principal, stage, exc, None)
                return error_response(exc)
            except Exception:  # noqa: BLE001 - the boundary: logged with its traceback, answered as a 500
                logger.exception("unhandled error", extra={"route": f"{spec.method} {spec.path}"})
                _audit(spec, view.__name__, request, audited, principal, stage, InternalError(), None)
                return error_response(InternalError())
            _audit(spec, view.__name__, request, audited, principal, stage, None, response)
            return response

        handler.__name__ = view.__name__
        handler.__doc__ = view.__doc__
        if content_types:
            bp.route(path, methods=[method], content_types=["application/json", *content_types])(handler)
        else:
            bp.route(path, methods=[method])(handler)
        return view

    return decorate


def _response(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(body="", status_code=204)
    if isinstance(result, Reply):
        headers = {"Content-Type": "application/json", **(result.headers or {})}
        return Response(body=result.body, status_code=result.status or status, headers=headers)
    return Response(body=result, status_code=status, headers={"Content-Type": "application/json"})


# --- the two doors' credentials -------------------------------------------------------------


def _client_principal(
    request: Request, permission: str, path_params: dict[str, str], audited: dict[str, str]
) -> tuple[Principal, IdRef | None]:
    """The guard of /v1, with the path's server resolved to its tenant first (noted in ``audited``)."""
    from mamba import bootstrap
    from mamba.auth.api_keys import spelling
    from mamba.auth.credentials import bearer_token
    from mamba.auth.guard import authorize

    token = bearer_token(request)
    ports = bootstrap.guard_ports()
    if spelling(token) == "application":
        _check_application_key(request)  # 401 for a bad one, as anywhere
        raise ForbiddenError("An application key works only on the application API.", {"reason": "wrong_api"})
    reference = path_params.get("server")
    if reference is None:
        # The server list (GET /api/client) shows a key limited to some servers just those.
        return authorize(request, permission, {}, ports, listing=request.path == CLIENT_PREFIX), None
    server = resolve_server(reference)
    if server is None or server.scope is None:
        authorize(request, "account.read", {}, ports)  # a bad credential is a 401 before any 404
        raise NotFoundError(NOT_FOUND_DETAIL, {"server": reference})
    audited["tenant_id"] = server.scope
    try:
        principal = authorize(request, permission, {"tenant_id": server.scope, "server_id": server.ref}, ports)
    except NotFoundError as exc:
        # Another tenant's server answers exactly as a server that does not exist: the guard's own
        # "Tenant not found." would tell a caller that the identifier is taken.
        raise NotFoundError(NOT_FOUND_DETAIL, {"server": reference}) from exc
    return principal, server


def resolve_server(reference: str) -> IdRef | None:
    """A server by its 8-character identifier or its uuid (one read either way)."""
    from mamba import bootstrap
    from mamba.domain.pterodactyl import IdRef

    value = reference.strip().lower()
    if len(value) == 8:
        return bootstrap.ptero_ids().by_identifier(value)
    if len(value) == 36:
        try:
            server = bootstrap.server_repository().get(value)
        except NotFoundError:
            return None
        return IdRef(kind="server", ref=server.uuid, number=0, scope=server.tenant_id)
    return None


def _check_application_key(request: Request) -> Any:
    """An application key's owner and record: 401 for a bad, revoked or expired key (or an
    inactive owner), 403 outside its networks."""
    from mamba import bootstrap
    from mamba.auth.api_keys import check_key, recorder
    from mamba.auth.credentials import resolve

    ports = bootstrap.guard_ports()
    credential = resolve(request, ports.jwt_secret)
    facts = ports.identity.load(credential.user_id, None, credential.key_id)
    user = facts.user
    if user is None or user.status != "active":
        raise UnauthorizedError("The account is not active.", {"reason": "inactive"})
    identity = (request.context or {}).get("identity") or {}
    check_key(
        facts.api_key,
        credential,
        str(identity.get("sourceIp") or ""),
        record_use=recorder(ports.key_uses),
        not_before=user.credentials_reset_at,
    )
    return user, facts.api_key


def _application_principal(request: Request, resource: str, writes: bool) -> tuple[Principal, dict[str, str]]:
    """The admin behind a valid application key whose right on ``resource`` allows the method,
    and the key's rights (the view's includes read them)."""
    from mamba import bootstrap
    from mamba.auth.api_keys import spelling
    from mamba.auth.context import Principal
    from mamba.auth.credentials import bearer_token, resolve
    from mamba.auth.guard import authorize
    from mamba.domain.pterodactyl import right_allows

    token = bearer_token(request)
    if spelling(token) != "application":
        # Any other valid credential is the wrong kind here: prove it is valid (401 if not), then 403.
        if spelling(token) is None:
            resolve(request, bootstrap.settings().jwt_secret)
        else:
            authorize(request, "account.read", {}, bootstrap.guard_ports())
        raise ForbiddenError("This API needs an application key (ptla_...).", {"reason": "wrong_api"})
    user, key = _check_application_key(request)
    if key is None or not key.is_application:
        raise ForbiddenError("This API needs an application key (ptla_...).", {"reason": "wrong_api"})
    if not user.is_admin:
        raise ForbiddenError("Application keys belong to platform admins.", {"reason": "not_admin"})
    if not right_allows(key.right(resource), writes):
        raise ForbiddenError(
            "This action is unauthorized.", {"resource": resource, "needs": "read-write" if writes else "read"}
        )
    principal = Principal(
        user_id=user.id, is_admin=True, via="application_key", scopes=frozenset(), email_verified=True
    )
    return principal, dict(key.rights)
