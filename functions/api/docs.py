"""The OpenAPI document and the page that renders it (assets served locally, no CDN)."""

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from mamba.docs_page import asset, page
from mamba.domain.errors import NotFoundError
from mamba.lazy import lazy_import
from mamba.web import PUBLIC, Ctx, json_response, route

if TYPE_CHECKING:
    from mamba import openapi
else:
    openapi = lazy_import("mamba.openapi")  # pydantic's JSON-schema machinery, only for /openapi.json

bp = Blueprint(__name__)


@route(bp, "/openapi.json", "GET", permission=PUBLIC, summary="This API's OpenAPI 3.1 document", tags=("ops",))
def openapi_json(ctx: Ctx) -> Response:
    return json_response(openapi.document())


@route(bp, "/docs", "GET", permission=PUBLIC, summary="Interactive API docs", tags=("ops",), content_type="text/html")
def docs_page(ctx: Ctx) -> Response:
    return Response(body=page(), status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


@route(
    bp,
    "/docs/assets/{name}",
    "GET",
    permission=PUBLIC,
    summary="A static asset of the docs page",
    tags=("ops",),
    content_type="text/plain",
)
def docs_asset(ctx: Ctx, name: str) -> Response:
    found = asset(name)
    if found is None:
        raise NotFoundError("No such asset.", {"name": name})
    body, content_type = found
    return Response(body=body, status_code=200, headers={"Content-Type": content_type, "Cache-Control": "max-age=3600"})
