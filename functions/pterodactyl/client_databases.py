"""/api/client/servers/{server}/databases: Mamba has no managed databases, so every route of
Pterodactyl's answers 501 in its error shape (after the same guard as the rest: another user's
server is still a 404). docs/pterodactyl-api.md, Databases."""

from __future__ import annotations

from chalice.app import Blueprint

from mamba.domain.pterodactyl import NotImplementedHereError
from mamba.pterodactyl_web import PteroCtx, ptero_route

bp = Blueprint(__name__)
DATABASES = "/api/client/servers/{server}/databases"
NOT_HERE = "This panel does not manage databases for servers."


def _refuse() -> None:
    raise NotImplementedHereError(NOT_HERE, {"capability": "databases"})


@ptero_route(bp, DATABASES, "GET", permission="servers.read", summary="Databases (not offered: 501)")
def list_databases(ctx: PteroCtx, server: str) -> None:
    _refuse()


@ptero_route(bp, DATABASES, "POST", permission="servers.update", summary="Create a database (not offered: 501)")
def create_database(ctx: PteroCtx, server: str) -> None:
    _refuse()


@ptero_route(bp, DATABASES + "/{database}/rotate-password", "POST", permission="servers.update",
             summary="Rotate a database's password (not offered: 501)")  # fmt: skip
def rotate_password(ctx: PteroCtx, server: str, database: str) -> None:
    _refuse()


@ptero_route(bp, DATABASES + "/{database}", "DELETE", permission="servers.update",
             summary="Delete a database (not offered: 501)")  # fmt: skip
def delete_database(ctx: PteroCtx, server: str, database: str) -> None:
    _refuse()
