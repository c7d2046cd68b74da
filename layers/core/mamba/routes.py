"""The route registry: one record per declared panel route.

``mamba.web.route(...)`` appends a ``RouteSpec`` here for every route it declares; the
OpenAPI document (``mamba.openapi``), the audit step (``mamba.web_audit``) and the tests
that walk every route read it from here. The module depends on nothing of the panel, so
every one of them can import it without importing the HTTP boundary (which imports the
audit step, which needs the records: the cycle this module ends).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["NODE", "PUBLIC", "REGISTRY", "RouteSpec", "register", "registry_scope"]

PUBLIC = "public"
# The Wings callback API (/api/remote/*): no user credential; the view authenticates the
# calling node by its ``Bearer <token_id>.<token>`` itself (mamba.services.remote_auth).
NODE = "node"


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    permission: str  # a catalogue permission, PUBLIC, or NODE
    summary: str
    tags: tuple[str, ...] = ()
    request_model: type[BaseModel] | None = None
    # What the route answers on success: ``route()`` serialises the view's result through it,
    # and the OpenAPI document describes it, so the two cannot disagree.
    response_model: type[BaseModel] | None = None
    status: int = 200
    query: tuple[str, ...] = ()
    content_type: str = "application/json"
    billing: bool = False  # answers 503 BILLING_DISABLED while billing is off
    # Other media types the route may answer with instead of its model (a ``?format=csv``);
    # the view returns a ``Response`` of one of them, published as a string in OpenAPI.
    alternate_types: tuple[str, ...] = ()
    # Error statuses (in the error shape) this route answers beyond those its kind always may
    # (mamba.openapi.error_statuses): a public sign-in's 401, a sign-up's 409.
    errors: tuple[int, ...] = ()
    # Other statuses answered with the response model itself (/health/ready's 503).
    also: tuple[int, ...] = ()

    @property
    def is_public(self) -> bool:
        return self.permission == PUBLIC

    @property
    def is_node(self) -> bool:
        return self.permission == NODE

    @property
    def tenant_scoped(self) -> bool:
        return "{tenant_id}" in self.path

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path


REGISTRY: list[RouteSpec] = []


def register(spec: RouteSpec) -> None:
    """Record ``spec``; ValueError for a (method, path) that is already registered."""
    if any(existing.key == spec.key for existing in REGISTRY):
        raise ValueError(
            f"{spec.method} {spec.path} is declared twice (a throwaway test app should use registry_scope())"
        )
    REGISTRY.append(spec)


@contextlib.contextmanager
def registry_scope() -> Iterator[list[RouteSpec]]:
    """Routes declared inside the block are forgotten when it ends (tests that build
    throwaway apps use this, so the product's REGISTRY never sees their routes)."""
    saved = list(REGISTRY)
    try:
        yield REGISTRY
    finally:
        REGISTRY[:] = saved
