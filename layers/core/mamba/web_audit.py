"""The audit step of the route wrapper (``mamba.web.route``): decides whether a finished
request leaves an audit entry and writes it through ``mamba.services.audit.record``.

What is recorded, for every route that is not public:

* every mutation (any method but GET and HEAD), whatever its outcome: ``success``,
  ``denied`` (401 or 403) or ``error`` (a validation error, a conflict, a 500, ...);
* every request the guard refuses with 401, 403 or 404, reads included: ``denied``.

Public routes (register, login, password reset, the Wings and Stripe callbacks) record
their own events, because only they know what happened (a wrong password, an unknown
email). A request refused before authentication (billing switched off) records nothing:
there is no caller and nothing happened.

The entry's fields:

* the log: the path's tenant on a tenant route, but only once the guard proved the caller
  and found them a member (the request got past the guard, or the guard refused it with
  403 or 402); a request refused before that (401: no or bad credential; 404: not a member, or no
  such tenant) goes to the platform **security** log, with the path's tenant in
  ``details.tenant_id``. Anyone can send a request naming any tenant: were its refusal
  filed under that tenant, strangers could write into (and flood) a tenant's audit log
  without signing in (issue 10, finding 7). Other routes use the platform log, their 401s
  the security log too;
* ``actor_id``/``actor_via``: the caller; for a denied request, the identity its credential
  names (``details.verified`` is false on a 401, where the guard did not accept the
  credential), or none for a request without a readable credential;
* ``action``: the view's name (``create_api_key``); ``permission``, ``method``, ``status``;
* ``target``: the request's path, plus the new resource's id for a 201 with an ``id``;
* ``ip``, ``request_id``, ``error_code``, and a few safe ``details`` (reason, permission, key id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mamba.domain.errors import DomainError
from mamba.observability import current_request_id, logger

if TYPE_CHECKING:
    from chalice.app import Request

    from mamba.auth.context import Principal
    from mamba.ports import AuditLog
    from mamba.routes import RouteSpec

READS = frozenset({"GET", "HEAD"})
GUARD_DENIALS = frozenset({401, 403, 404})
_SAFE_DETAILS = ("reason", "permission")


@dataclass(frozen=True)
class AuditSink:
    """Where entries go and the key that reads a refused request's credential, given by the
    HTTP boundary (``mamba.web``) from the composition root. Both are asked for only when an
    entry is written, inside the never-raising step, so a successful read costs nothing."""

    log: Callable[[], AuditLog]
    jwt_secret: Callable[[], str]


def audit_call(
    spec: RouteSpec,
    action: str,
    request: Request,
    path_params: dict[str, str],
    principal: Principal | None,
    stage: str,
    error: DomainError | None,
    result: Any,
    sink: AuditSink,
) -> None:
    """Record the finished request if it is a mutation or a denial. Never raises."""
    try:
        _audit_call(spec, action, request, path_params, principal, stage, error, result, sink)
    except Exception:  # noqa: BLE001 - building an entry must never break the answer
        logger.exception("audit entry could not be built", extra={"audit_write_failed": True})


def _outcome(spec: RouteSpec, stage: str, error: DomainError | None, result: Any) -> tuple[str, int] | None:
    mutation = spec.method not in READS
    if error is None:
        status = int(getattr(result, "status_code", spec.status))
        if not mutation:
            return None
        return ("success" if status < 400 else "error"), status
    if stage == "guard" and error.status in GUARD_DENIALS:
        return "denied", error.status
    if not mutation:
        return None
    return ("denied" if error.status in (401, 403) else "error"), error.status


def _claimed_actor(request: Request, jwt_secret: str) -> tuple[str | None, str | None, str | None]:
    """(user_id, via, key_id) the credential names, without I/O; Nones if it names no one."""
    from mamba.auth.credentials import resolve

    try:
        credential = resolve(request, jwt_secret)
    except DomainError:
        return None, None, None
    from mamba.domain.service_accounts import is_service_account_id

    # A service account's key is its only credential: name it so, like the guard's principal.
    via = "service_account" if is_service_account_id(credential.user_id) else credential.kind
    return credential.user_id, via, credential.key_id


def _target(spec: RouteSpec, path_params: dict[str, str], result: Any) -> str:
    target = spec.path
    for name, value in path_params.items():
        target = target.replace("{" + name + "}", value)
    created = result.model_dump() if hasattr(result, "model_dump") else result
    if spec.status == 201 and isinstance(created, dict) and isinstance(created.get("id"), str):
        target = f"{target}/{created['id']}"
    return target


def _audit_call(
    spec: RouteSpec,
    action: str,
    request: Request,
    path_params: dict[str, str],
    principal: Principal | None,
    stage: str,
    error: DomainError | None,
    result: Any,
    sink: AuditSink,
) -> None:
    outcome = _outcome(spec, stage, error, result)
    if outcome is None:
        return
    verdict, status = outcome
    from mamba.services import audit

    claimed_id, claimed_via, key_id = _claimed_actor(request, sink.jwt_secret())
    details: dict[str, Any] = {}
    actor_id: str | None
    via: str | None
    if principal is not None:
        actor_id, via = principal.user_id, principal.via
    else:
        actor_id, via = claimed_id, claimed_via
        # Only a 401 means the guard did not accept the credential; a 403 or 404 comes
        # after it was verified, so the named actor is the real one.
        if claimed_id is not None and status == 401:
            details["verified"] = False
    if key_id is not None and via in ("api_key", "service_account"):
        details["key_id"] = key_id
    if error is not None:
        details.update({k: error.details[k] for k in _SAFE_DETAILS if k in error.details})
    identity = (request.context or {}).get("identity") or {}
    # A member proven by the guard: it passed, or refused a verified member (403: role, scope,
    # suspension, 2FA; 402: unpaid), which it only does after the membership check.
    member = principal is not None or (stage == "guard" and status in (402, 403))
    # Pterodactyl's client routes name a server, not a tenant: the door passes the server's tenant
    # (mamba.pterodactyl_web), so their entries are filed as the same /v1 route's would be.
    scoped = spec.tenant_scoped or (spec.door is not None and "tenant_id" in path_params)
    audit.record(
        sink.log(),
        action=action,
        result=verdict,
        tenant_id=path_params.get("tenant_id") if scoped else None,
        security=not member and (scoped or status == 401),
        actor_id=actor_id,
        via=via,
        target=_target(spec, path_params, result if error is None else None),
        ip=str(identity.get("sourceIp") or "") or None,
        request_id=current_request_id(),
        permission=spec.permission,
        method=spec.method,
        status=status,
        error_code=error.code if error is not None else None,
        details=details,
    )
