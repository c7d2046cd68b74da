"""The Wings callback API, ``/api/remote/*`` (wings-contract.md §5; docs/remote-api.md).

Every route is declared ``permission=web.NODE``: no user credential; ``_node`` authenticates
the calling node by its ``Bearer <token_id>.<token>``. Errors answer in the shape Wings
reads, ``{"errors": [{"code", "status": "<string>", "detail"}]}``, never the panel's shape.
Bodies are parsed here (not by a request model) because Wings sends the literal JSON ``null``
on some routes and its error shape differs from the panel's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from mamba import bootstrap, web
from mamba.domain.clock import iso, utcnow
from mamba.domain.errors import DomainError, ValidationError
from mamba.lazy import lazy_import
from mamba.observability import logger

if TYPE_CHECKING:
    from mamba.auth import sftp
    from mamba.services import backups, remote_activity, remote_auth, remote_install, remote_servers
else:
    remote_auth = lazy_import("mamba.services.remote_auth")
    remote_servers = lazy_import("mamba.services.remote_servers")
    remote_install = lazy_import("mamba.services.remote_install")
    remote_activity = lazy_import("mamba.services.remote_activity")
    sftp = lazy_import("mamba.auth.sftp")
    backups = lazy_import("mamba.services.backups")


bp = Blueprint(__name__)
TAGS = ("wings",)

# The exception names Laravel (the reference panel) puts in ``code``, so Wings' logs read the same.
_CODES = {
    400: "BadRequestHttpException",
    401: "UnauthorizedHttpException",
    403: "AccessDeniedHttpException",
    404: "NotFoundHttpException",
    409: "ConflictHttpException",
    422: "ValidationException",
}


def _errors(status: int, detail: str) -> Response:
    body = {"errors": [{"code": _CODES.get(status, "HttpException"), "status": str(status), "detail": detail}]}
    return web.json_response(body, status)


def _answer(ctx: web.Ctx, handle: Callable[[Any], Any], status: int = 200) -> Response:
    """Authenticate the node, run ``handle(node)`` and render its result or error for Wings."""
    try:
        node = remote_auth.authenticate_node(ctx.request.headers.get("authorization"), bootstrap.node_repository())
    except DomainError as exc:
        _audit_denial(ctx, exc)
        return _errors(exc.status, exc.message)
    try:
        result = handle(node)
    except DomainError as exc:
        return _errors(exc.status, exc.message)
    except Exception:  # noqa: BLE001 - the boundary: Wings retries a 5xx, the log keeps the traceback
        logger.exception("remote API failure")
        return _errors(500, "An unexpected error was encountered while processing this request.")
    if status == 204:
        return Response(body="", status_code=204, headers={"Content-Type": "application/json"})
    return web.json_response(result, status)


def _audit_denial(ctx: web.Ctx, error: DomainError) -> None:
    """A refused node credential goes to the platform security log (who presented what, from where)."""
    from mamba.services import audit

    scheme, _, value = (ctx.request.headers.get("authorization") or "").partition(" ")
    audit.record(
        bootstrap.audit_log(),
        action="remote.authenticate",
        result="denied",
        target=f"{ctx.request.method} {ctx.request.path}",
        ip=ctx.source_ip,
        request_id=ctx.request_id,
        method=ctx.request.method,
        status=error.status,
        error_code=error.code,
        # the token id only (public, indexed); never the token
        details={"token_id": value.split(".", 1)[0][:16] if scheme.lower() == "bearer" else None},
        security=True,
    )


def _body(ctx: web.Ctx) -> Any:
    raw = ctx.request.raw_body or b""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError("The request body is not valid JSON.") from exc


def _now() -> str:
    return iso(utcnow())


def _blueprints() -> remote_servers.RepositoryBlueprints:
    return remote_servers.RepositoryBlueprints(bootstrap.blueprint_repository())


@web.route(bp, "/api/remote/servers", "GET", permission=web.NODE, summary="Wings boot: the node's servers, paginated",
           tags=TAGS, query=("page", "per_page"))  # fmt: skip
def list_servers(ctx: web.Ctx) -> Response:
    q = ctx.query
    return _answer(
        ctx,
        lambda node: remote_servers.list_servers(
            node, q.get("page"), q.get("per_page"), bootstrap.server_repository(), _blueprints()
        ),
    )


@web.route(bp, "/api/remote/servers/reset", "POST", permission=web.NODE, summary="Wings booted: reset its servers",
           tags=TAGS, status=204)  # fmt: skip
def reset_servers(ctx: web.Ctx) -> Response:
    return _answer(ctx, lambda node: remote_install.reset(node, bootstrap.server_repository(), _now), 204)


@web.route(bp, "/api/remote/servers/{uuid}", "GET", permission=web.NODE, summary="A server's configuration document",
           tags=TAGS)  # fmt: skip
def server_configuration(ctx: web.Ctx, uuid: str) -> Response:
    return _answer(
        ctx, lambda node: remote_servers.server_configuration(node, uuid, bootstrap.server_repository(), _blueprints())
    )


@web.route(bp, "/api/remote/servers/{uuid}/install", "GET", permission=web.NODE, summary="A server's install script",
           tags=TAGS)  # fmt: skip
def install_script(ctx: web.Ctx, uuid: str) -> Response:
    return _answer(
        ctx, lambda node: remote_install.install_script(node, uuid, bootstrap.server_repository(), _blueprints())
    )


@web.route(bp, "/api/remote/servers/{uuid}/install", "POST", permission=web.NODE, summary="Wings reports an install",
           tags=TAGS, status=204)  # fmt: skip
def report_install(ctx: web.Ctx, uuid: str) -> Response:
    return _answer(
        ctx,
        lambda node: remote_install.report_install(
            node, uuid, _body(ctx), bootstrap.server_repository(), _now, bootstrap.task_waits()
        ),
        204,
    )


def _transfer(ctx: web.Ctx, uuid: str) -> Response:
    return _answer(ctx, lambda node: remote_install.transfer_result(node, uuid, bootstrap.server_repository()), 204)


@web.route(bp, "/api/remote/servers/{uuid}/transfer/success", "POST", permission=web.NODE,
           summary="Wings reports a transfer succeeded", tags=TAGS, status=204)  # fmt: skip
def transfer_success(ctx: web.Ctx, uuid: str) -> Response:
    return _transfer(ctx, uuid)


@web.route(bp, "/api/remote/servers/{uuid}/transfer/failure", "POST", permission=web.NODE,
           summary="Wings reports a transfer failed", tags=TAGS, status=204)  # fmt: skip
def transfer_failure(ctx: web.Ctx, uuid: str) -> Response:
    return _transfer(ctx, uuid)


@web.route(bp, "/api/remote/sftp/auth", "POST", permission=web.NODE, summary="Authenticate an SFTP login", tags=TAGS)
def sftp_auth(ctx: web.Ctx) -> Response:
    return _answer(
        ctx,
        lambda node: sftp.sftp_auth(
            node,
            _body(ctx),
            bootstrap.server_repository(),
            bootstrap.sftp_credentials(),
            sftp.SftpAudit(bootstrap.audit_log(), ctx.request_id),
        ),
    )


@web.route(bp, "/api/remote/activity", "POST", permission=web.NODE, summary="Wings posts activity entries",
           tags=TAGS, status=204)  # fmt: skip
def activity(ctx: web.Ctx) -> Response:
    return _answer(
        ctx, lambda node: remote_activity.record_activity(node, _body(ctx), bootstrap.server_repository()), 204
    )


# --- backups (§5.9; mamba.services.backups) ---


@web.route(bp, "/api/remote/backups/{uuid}", "GET", permission=web.NODE,
           summary="Wings starts an S3 backup upload: presigned part URLs", tags=TAGS, query=("size",))  # fmt: skip
def backup_upload_urls(ctx: web.Ctx, uuid: str) -> Response:
    size = ctx.query.get("size")
    return _answer(ctx, lambda node: backups.presign_upload(bootstrap.backup_ports(), node, uuid, size))


@web.route(bp, "/api/remote/backups/{uuid}", "POST", permission=web.NODE,
           summary="Wings reports a backup: complete or abort its upload", tags=TAGS, status=204)  # fmt: skip
def backup_completed(ctx: web.Ctx, uuid: str) -> Response:
    return _answer(ctx, lambda node: backups.report_backup(bootstrap.backup_ports(), node, uuid, _body(ctx)), 204)


@web.route(bp, "/api/remote/backups/{uuid}/restore", "POST", permission=web.NODE,
           summary="Wings reports a restore", tags=TAGS, status=204)  # fmt: skip
def backup_restored(ctx: web.Ctx, uuid: str) -> Response:
    return _answer(ctx, lambda node: backups.report_restore(bootstrap.backup_ports(), node, uuid, _body(ctx)), 204)
