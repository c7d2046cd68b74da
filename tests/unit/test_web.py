"""The HTTP helpers, without a server: error shape, body parsing, request ids, the registry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from chalice.app import Response
from pydantic import BaseModel, Field

from mamba import observability, web
from mamba.domain.errors import NotFoundError, RateLimitedError, ValidationError


class Widget(BaseModel):
    name: str = Field(min_length=1)
    size: int = Field(ge=1)
    password: str | None = None


def _request(raw: bytes | None = None, headers: dict | None = None, context: dict | None = None):
    return SimpleNamespace(raw_body=raw, headers=headers or {}, context=context or {}, query_params=None)


def test_error_response_has_the_one_shape_when_a_domain_error_is_raised():
    with observability.request_context("req-12345678"):
        response = web.error_response(NotFoundError("Server not found.", {"server_id": "s1"}))

    assert response.status_code == 404
    assert response.body == {
        "error": {"code": "NOT_FOUND", "message": "Server not found.", "details": {"server_id": "s1"}},
        "request_id": "req-12345678",
    }
    assert response.headers["X-Request-Id"] == "req-12345678"
    assert response.headers["Content-Type"] == "application/json"


def test_error_response_sets_retry_after_when_rate_limited():
    response = web.error_response(RateLimitedError("slow down", retry_after=17))

    assert (response.status_code, response.headers["Retry-After"]) == (429, "17")


def test_json_response_dumps_models_inside_containers():
    response = web.json_response({"items": [Widget(name="a", size=1)], "pair": (1, 2)}, status=201)

    assert response.status_code == 201
    assert response.body == {"items": [{"name": "a", "size": 1, "password": None}], "pair": [1, 2]}


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        (b"{not json", ["body"]),
        (b"\xff\xfe", ["body"]),
        (b"[1, 2]", ["body"]),
        (b'"text"', ["body"]),
        (b"", ["name", "size"]),
        (b'{"name": "", "size": 0}', ["name", "size"]),
        (b'{"name": "a", "size": "big"}', ["size"]),
    ],
)
def test_parse_body_raises_validation_error_naming_fields_when_body_is_bad(raw, fields):
    with pytest.raises(ValidationError) as caught:
        web.parse_body(_request(raw), Widget)

    assert [f["field"] for f in caught.value.details["fields"]] == fields


def test_parse_body_never_echoes_submitted_values_when_validation_fails():
    raw = json.dumps({"name": "", "size": 0, "password": 12345678}).encode()

    with pytest.raises(ValidationError) as caught:
        web.parse_body(_request(raw), Widget)

    assert "12345678" not in json.dumps(caught.value.details)
    assert {f["field"] for f in caught.value.details["fields"]} == {"name", "size", "password"}


def test_parse_body_returns_the_model_when_body_is_valid():
    assert web.parse_body(_request(b'{"name": "a", "size": 2}'), Widget) == Widget(name="a", size=2)


@pytest.mark.parametrize(
    ("headers", "context", "expected"),
    [
        ({"X-Request-Id": "client-req-0001"}, {}, "client-req-0001"),
        ({"X-Request-Id": "short"}, {"requestId": "apigw-request-1"}, "apigw-request-1"),
        ({"X-Request-Id": "evil\r\nSet-Cookie: x=1"}, {}, None),
        ({"X-Request-Id": "<script>alert(1)</script>"}, {}, None),
        ({"X-Request-Id": "a" * 129}, {}, None),
        ({}, {"requestId": "apigw-request-2"}, "apigw-request-2"),
        ({}, {}, None),
    ],
)
def test_incoming_request_id_is_echoed_only_when_safe(headers, context, expected):
    request_id = web._incoming_request_id(_request(headers=headers, context=context))

    if expected is None:
        assert len(request_id) == 36 and request_id.count("-") == 4  # a fresh uuid4
    else:
        assert request_id == expected


def test_incoming_request_id_is_fresh_when_there_is_no_request():
    assert web._incoming_request_id(None) != web._incoming_request_id(None)


@pytest.mark.parametrize(
    ("status", "body", "headers", "code"),
    [
        (
            405,
            {"Code": "MethodNotAllowedError", "Message": "Unsupported method: PUT"},
            {"Allow": "GET"},
            "METHOD_NOT_ALLOWED",
        ),
        (
            415,
            {"Code": "UnsupportedMediaType", "Message": "Unsupported media type: text/xml"},
            {},
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (400, {"Code": "BadRequestError", "Message": "bad"}, {}, "VALIDATION_ERROR"),
        (404, {"Code": "NotFoundError", "Message": "nope"}, {}, "NOT_FOUND"),
        (429, {"Code": "TooManyRequestsError", "Message": "later"}, {}, "BAD_REQUEST"),
        (500, {"Code": "InternalServerError", "Message": "An internal server error occurred."}, {}, "INTERNAL"),
        (
            500,
            "Traceback (most recent call last):\n  File ...\nKeyError: 'secret'",
            {"Content-Type": "text/plain"},
            "INTERNAL",
        ),
        (502, b"upstream", {}, "INTERNAL"),
    ],
)
def test_reshape_gives_framework_answers_our_shape(status, body, headers, code):
    with observability.request_context("req-reshape-1"):
        reshaped = web._reshape(Response(body=body, status_code=status, headers=dict(headers)))

    assert reshaped.status_code == status
    assert reshaped.body["error"]["code"] == code
    assert reshaped.body["request_id"] == "req-reshape-1"
    assert reshaped.headers["Content-Type"] == "application/json"
    if status >= 500:
        assert reshaped.body["error"]["message"] == "An internal error occurred."
        assert "Traceback" not in json.dumps(reshaped.body)
    if "Allow" in headers:
        assert reshaped.headers["Allow"] == "GET"


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, {"status": "ok"}), (503, {"status": "unavailable", "checks": {"s3": "error"}}), (204, None)],
)
def test_reshape_keeps_our_own_answers(status, body):
    response = Response(body=body, status_code=status)

    assert web._reshape(response) is response


class _App:
    """Just enough of a Chalice app for route(): records what Chalice would be given."""

    def __init__(self):
        self.routes = []
        self.current_request = None

    def route(self, path, methods):
        def register(fn):
            self.routes.append((path, methods, fn))
            return fn

        return register


def test_route_registers_one_spec_and_one_chalice_route():
    app = _App()
    with web.registry_scope() as registry:
        before = len(registry)

        @web.route(app, "/v1/widgets", "post", permission=web.PUBLIC, summary="Make a widget", status=201)
        def make(ctx):
            return {"ok": True}

        assert len(registry) == before + 1
        spec = registry[-1]
        assert (spec.method, spec.path, spec.status, spec.is_public, spec.tenant_scoped) == (
            "POST",
            "/v1/widgets",
            201,
            True,
            False,
        )
        assert [(p, m) for p, m, _ in app.routes] == [("/v1/widgets", ["POST"])]
    assert len(web.REGISTRY) == before, "registry_scope forgets the throwaway route"


def test_route_resolves_models_given_by_name_only_when_they_are_first_read():
    with web.registry_scope() as registry:
        web.route(_App(), "/v1/widgets/{widget_id}", "PUT", permission=web.PUBLIC, summary="w",
                  request_model="tests.unit.test_web:Widget", response_model="servers:ServerOut",
                  query="tests.unit.test_web:Widget")  # fmt: skip
        spec = registry[-1]
        # Given a route declared with its models by name: nothing was resolved yet
        assert spec._resolved == {}
        assert spec.has_request_model and spec.has_response_model
        # When the models are read: the named classes, the short name under mamba.schemas
        from mamba.schemas.servers import ServerOut

        assert (spec.request_model, spec.response_model, spec.query_model) == (Widget, ServerOut, Widget)
        assert spec.query == ("name", "size", "password")


@pytest.mark.parametrize("ref", ["Widget", ":Widget", "servers:"])
def test_resolve_model_refuses_a_name_without_module_and_class(ref):
    from mamba.routes import resolve_model

    with pytest.raises(ValueError, match="<module>:<Class>"):
        resolve_model(ref)


def test_every_registered_route_names_models_that_exist():
    import app  # noqa: F401 - registers every route

    for spec in web.REGISTRY:
        for model in (spec.request_model, spec.response_model, spec.query_model):
            assert model is None or issubclass(model, BaseModel), (spec, model)


@pytest.mark.parametrize(
    ("permission", "message"),
    [("", "declares no permission"), ("servers.destroy_everything", "unknown permission")],
)
def test_route_refuses_declaration_when_permission_is_missing_or_unknown(permission, message):
    with web.registry_scope(), pytest.raises(ValueError, match=message):
        web.route(_App(), "/v1/x", "GET", permission=permission, summary="x")


def test_route_refuses_declaration_when_method_and_path_are_already_registered():
    with web.registry_scope():
        web.route(_App(), "/v1/twice", "GET", permission=web.PUBLIC, summary="x")

        with pytest.raises(ValueError, match="declared twice"):
            web.route(_App(), "/v1/twice", "get", permission=web.PUBLIC, summary="again")


def test_tenant_scoped_spec_when_path_names_the_tenant():
    spec = web.RouteSpec(path="/v1/tenants/{tenant_id}/servers", method="GET", permission="servers.read", summary="")

    assert spec.tenant_scoped and not spec.is_public


def test_ctx_refuses_tenant_when_principal_has_none():
    ctx = web.Ctx(request=_request(), request_id="r", principal=None)

    with pytest.raises(Exception, match="needs a tenant"):
        _ = ctx.tenant


def test_ctx_exposes_query_and_source_ip():
    request = SimpleNamespace(query_params={"limit": "5"}, context={"identity": {"sourceIp": "203.0.113.9"}})

    ctx = web.Ctx(request=request, request_id="r", principal=None)

    assert (ctx.query, ctx.source_ip) == ({"limit": "5"}, "203.0.113.9")


# --- serialise: the answer goes through the route's response model ---


class _PairOut(BaseModel):
    ip: str
    port: int


class _ThingOut(BaseModel):
    id: str
    name: str
    note: str | None = None
    where: _PairOut
    tags: list[str]
    health: str | None = None


@dataclass(frozen=True)
class _Where:
    ip: str
    port: int
    secret: str = "node-token"


@dataclass(frozen=True)
class _Thing:
    uuid: str
    name: str
    where: _Where
    tags: tuple[str, ...]
    password_hash: str = "argon2id$..."

    @property
    def id(self) -> str:
        return self.uuid


def _spec(model: type[BaseModel] | None) -> web.RouteSpec:
    return web.RouteSpec(path="/v1/things", method="GET", permission=web.PUBLIC, summary="", response_model=model)


def test_serialise_reads_a_record_by_attribute_and_drops_what_the_model_does_not_declare():
    thing = _Thing(uuid="t1", name="n", where=_Where("10.0.0.1", 25565), tags=("a",))

    body = web.serialise(_spec(_ThingOut), thing)

    assert body == {
        "id": "t1",
        "name": "n",
        "note": None,
        "where": {"ip": "10.0.0.1", "port": 25565},
        "tags": ["a"],
        "health": None,
    }


def test_serialise_adds_fields_to_a_record_when_given_with_fields():
    thing = _Thing(uuid="t1", name="n", where=_Where("10.0.0.1", 1), tags=())

    body = web.serialise(_spec(_ThingOut), web.with_fields(thing, health="healthy"))

    assert body["health"] == "healthy" and body["id"] == "t1"


def test_serialise_raises_response_shape_error_when_a_required_field_is_missing():
    with pytest.raises(web.ResponseShapeError, match=r"_ThingOut rejects the result at \['where'\]"):
        web.serialise(_spec(_ThingOut), {"id": "t1", "name": "n", "tags": []})


def test_serialise_leaves_out_the_excluded_fields_only():
    result = {"id": "t1", "name": "n", "where": {"ip": "h", "port": 1}, "tags": [], "note": "kept"}

    body = web.serialise(_spec(_ThingOut), result, frozenset({"health"}))

    assert "health" not in body and body["note"] == "kept"


def test_serialise_passes_the_result_through_when_the_route_has_no_model():
    assert web.serialise(_spec(None), {"items": [Widget(name="a", size=1)]}) == {
        "items": [{"name": "a", "size": 1, "password": None}]
    }


def test_route_answers_a_reply_with_its_status_headers_and_model():
    app = _App()
    with web.registry_scope():

        @web.route(app, "/v1/things", "POST", permission=web.PUBLIC, summary="x", response_model=_ThingOut, status=201)
        def make(ctx):
            thing = _Thing(uuid="t1", name="n", where=_Where("h", 1), tags=())
            return web.Reply(thing, status=200, headers={"Set-Cookie": "c=1"}, exclude=frozenset({"note"}))

        handler = app.routes[-1][2]
        app.current_request = _request(b"")
        with observability.request_context("req-12345678"):
            response = handler()

    assert response.status_code == 200
    assert response.headers["Set-Cookie"] == "c=1"
    assert response.body == {"id": "t1", "name": "n", "where": {"ip": "h", "port": 1}, "tags": [], "health": None}


def test_serialise_leaves_out_an_empty_field_when_the_model_omits_it_when_none():
    from mamba.schemas.accounts import StatusOut

    spec = web.RouteSpec(path="/v1/x", method="POST", permission=web.PUBLIC, summary="", response_model=StatusOut)

    assert web.serialise(spec, {"status": "logged_out"}) == {"status": "logged_out"}
    assert web.serialise(spec, {"status": "accepted", "message": "m"}) == {"status": "accepted", "message": "m"}
