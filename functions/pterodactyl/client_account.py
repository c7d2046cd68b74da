"""/api/client: the permission table (and, below, the account)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from mamba.domain.pterodactyl import permissions_document
from mamba.pterodactyl_web import PteroCtx, ptero_route

bp = Blueprint(__name__)


@ptero_route(bp, "/api/client/permissions", "GET", permission="account.read",
             summary="Pterodactyl's per-server permission keys and what each allows")  # fmt: skip
def permissions(ctx: PteroCtx) -> Any:
    return permissions_document()
