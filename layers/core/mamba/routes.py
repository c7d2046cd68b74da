"""The route registry: one record per declared panel route.

``mamba.web.route(...)`` appends a ``RouteSpec`` here for every route it declares; the
OpenAPI document (``mamba.openapi``), the audit step (``mamba.web_audit``) and the tests
that walk every route read it from here. The module depends on nothing of the panel, so
every one of them can import it without importing the HTTP boundary (which imports the
audit step, which needs the records: the cycle this module ends).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["NODE", "PUBLIC", "REGISTRY", "RouteSpec", "register", "registry_scope", "resolve_model"]

PUBLIC = "public"
# The Wings callback API (/api/remote/*): no user credential; the view authenticates the
# calling node by its ``Bearer <token_id>.<token>`` itself (mamba.services.remote_auth).
NODE = "node"


# A model given by name, ``"<module>:<Class>"``: ``"servers:ServerOut"`` names
# ``mamba.schemas.servers.ServerOut`` (a module without a dot is one of ``mamba.schemas``), and a
# dotted module is taken as it is. Routes name their models so that ``import app`` builds none of
# them: the schema module is imported when something first needs the class (the route's first
# call, the OpenAPI document, SnapStart's before-snapshot hook). docs/performance.md.
SCHEMAS_PACKAGE = "mamba.schemas"


def resolve_model(ref: type[BaseModel] | str) -> type[BaseModel]:
    """The class a model reference names (a class is returned as it is). ImportError or
    AttributeError for a name that names nothing: a test resolves every route's models."""
    if not isinstance(ref, str):
        return ref
    module, sep, name = ref.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"a model name is '<module>:<Class>', not {ref!r}")
    if "." not in module:
        module = f"{SCHEMAS_PACKAGE}.{module}"
    found: type[BaseModel] = getattr(importlib.import_module(module), name)
    return found


class RouteSpec:
    """One declared route. Its models may be given by name (see above); reading
    ``request_model``, ``response_model``, ``query_model`` or ``query`` resolves them."""

    __slots__ = (
        "_query",
        "_query_ref",
        "_request_ref",
        "_resolved",
        "_response_ref",
        "also",
        "alternate_types",
        "billing",
        "content_type",
        "door",
        "errors",
        "method",
        "path",
        "permission",
        "resource",
        "status",
        "summary",
        "tags",
    )

    def __init__(
        self,
        path: str,
        method: str,
        permission: str,  # a catalogue permission, PUBLIC, or NODE
        summary: str,
        tags: tuple[str, ...] = (),
        request_model: type[BaseModel] | str | None = None,
        # What the route answers on success: ``route()`` serialises the view's result through it,
        # and the OpenAPI document describes it, so the two cannot disagree.
        response_model: type[BaseModel] | str | None = None,
        status: int = 200,
        query: tuple[str, ...] = (),
        # The model the view parses the query string with (web.parse_query), when it has one: the
        # OpenAPI document then states each parameter's type and constraints from it, and its
        # fields are the route's query parameters.
        query_model: type[BaseModel] | str | None = None,
        content_type: str = "application/json",
        billing: bool = False,  # answers 503 BILLING_DISABLED while billing is off
        # Other media types the route may answer with instead of its model (a ``?format=csv``);
        # the view returns a ``Response`` of one of them, published as a string in OpenAPI.
        alternate_types: tuple[str, ...] = (),
        # Error statuses (in the error shape) this route answers beyond those its kind always may
        # (mamba.openapi.error_statuses): a public sign-in's 401, a sign-up's 409.
        errors: tuple[int, ...] = (),
        # Other statuses answered with the response model itself (/health/ready's 503).
        also: tuple[int, ...] = (),
        # The API a route belongs to when it is not the panel's own: "client" or "application"
        # (Pterodactyl's, mamba.pterodactyl_web). Such routes speak Pterodactyl's shapes and are
        # described by docs/pterodactyl-api.md, not the OpenAPI document.
        door: str | None = None,
        # The application key resource an /api/application route reads or writes ("users", "servers"...):
        # the door checks the key's right on it; the route walk reads it to build the key that lacks it.
        resource: str | None = None,
    ) -> None:
        self.path = path
        self.method = method
        self.permission = permission
        self.summary = summary
        self.tags = tags
        self._request_ref = request_model
        self._response_ref = response_model
        self.status = status
        self._query = query
        self._query_ref = query_model
        self.content_type = content_type
        self.billing = billing
        self.alternate_types = alternate_types
        self.errors = errors
        self.also = also
        self.door = door
        self.resource = resource
        self._resolved: dict[str, type[BaseModel]] = {}

    def _model(self, which: str, ref: type[BaseModel] | str | None) -> type[BaseModel] | None:
        if ref is None:
            return None
        found = self._resolved.get(which)
        if found is None:  # two threads may both resolve it: the import lock makes it the same class
            found = self._resolved[which] = resolve_model(ref)
        return found

    @property
    def request_model(self) -> type[BaseModel] | None:
        return self._model("request", self._request_ref)

    @property
    def response_model(self) -> type[BaseModel] | None:
        return self._model("response", self._response_ref)

    @property
    def query_model(self) -> type[BaseModel] | None:
        return self._model("query", self._query_ref)

    @property
    def has_request_model(self) -> bool:
        """Whether the route parses a body, without building its model."""
        return self._request_ref is not None

    @property
    def has_response_model(self) -> bool:
        """Whether the route answers through a model, without building it."""
        return self._response_ref is not None

    @property
    def query(self) -> tuple[str, ...]:
        """The query parameters: those named, or the query model's fields (by alias)."""
        model = self.query_model
        if model is None:
            return self._query
        return tuple(field.alias or name for name, field in model.model_fields.items())

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

    def __repr__(self) -> str:
        return f"RouteSpec({self.method} {self.path}, permission={self.permission!r})"


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
