"""Boundary fixtures: a throwaway Chalice app wired like the product (middleware, route())."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from chalice import Chalice
from chalice.test import Client
from pydantic import BaseModel, Field

from local import gateway
from mamba import web
from mamba.observability import logger


class WidgetIn(BaseModel):
    name: str = Field(min_length=1)
    size: int = Field(ge=1)


def build_scratch_app() -> Chalice:
    """Routes that exercise each error path. Call inside web.registry_scope()."""
    app = Chalice(app_name="scratch", debug=True)  # debug: Chalice would return traceback text
    app.register_middleware(web.http_middleware, "http")

    @web.route(app, "/widgets", "POST", permission=web.PUBLIC, summary="Make", request_model=WidgetIn, status=201)
    def make_widget(ctx: web.Ctx) -> dict[str, object]:
        logger.info("making a widget", extra={"widget": ctx.body.name})
        return ctx.body.model_dump()

    @web.route(app, "/boom", "GET", permission=web.PUBLIC, summary="Fails")
    def boom(ctx: web.Ctx) -> None:
        raise KeyError("kaboom: internal detail db-password-hint")

    @web.route(app, "/tenants/{tenant_id}/billing", "POST", permission="billing.manage", summary="Pay", billing=True)
    def checkout(ctx: web.Ctx, tenant_id: str) -> dict[str, str]:
        return {"tenant": tenant_id}

    @app.route("/plain-boom")  # a view outside route(): Chalice's own 500 handling
    def plain_boom() -> None:
        raise ValueError("plain failure with detail")

    @app.route("/plain-chalice-error")
    def plain_chalice_error() -> None:
        from chalice import NotFoundError

        raise NotFoundError("no such thing")

    return app


@pytest.fixture
def scratch() -> Iterator[Client]:
    gateway.install()
    with web.registry_scope(), Client(build_scratch_app(), stage_name="test") as client:
        yield client


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    handler = logger.registered_handler
    buffer = io.StringIO()
    handler.redirect = buffer
    try:
        yield buffer
    finally:
        handler.redirect = None
