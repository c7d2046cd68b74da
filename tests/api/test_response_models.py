"""Every route with a response model answers through it, so /openapi.json cannot disagree
with what is sent (issue 15, item 6).

The walk takes every product route that declares a ``response_model`` and declares a twin of
it (same model, same status) on a throwaway app, through the same ``web.route``. The twin's
view returns a result built from the model's own schema plus a field the model does not
declare, and the test checks, over HTTP through ``chalice.test.Client``:

* the extra field does not leak, and the body validates against the schema the product's
  OpenAPI document publishes for that route;
* a result missing a required field is a 500 ``INTERNAL`` (a bug caught here, never a
  different shape on the wire).

That the product's own views go through ``web.route`` is proven by
tests/api/test_docs.py (every served route is a registered one); that a view of a modelled
route cannot bypass the model with a raw ``Response`` is proven below too.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
from chalice import Chalice
from chalice.app import Response
from chalice.test import Client
from pydantic import BaseModel

import app as app_module  # noqa: F401  (declares the product's routes)
from local import gateway
from mamba import openapi, routes, web

EXTRA = "leaked_internal_field"
MODELLED = sorted((s for s in routes.REGISTRY if s.response_model is not None), key=lambda s: (s.path, s.method))


def _ids(specs: list[routes.RouteSpec]) -> list[str]:
    return [f"{s.method} {s.path}" for s in specs]


# Sample strings, the first that fits a field's pattern is used.
_STRINGS = ("sample", "price_sample", "sample_event", "0", "sample.example")


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _sample(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A value the schema accepts, with every optional property filled in (so a dropped or
    renamed field shows), and lists of one element."""
    schema = _resolve(schema, defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o, defs).get("type") != "null"]
            return _sample(options[0], defs)
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties")
        if props is None:  # a free-form mapping
            extra = schema.get("additionalProperties")
            return {"k": _sample(extra, defs)} if isinstance(extra, dict) else {"k": "v"}
        return {name: _sample(sub, defs) for name, sub in props.items()}
    if kind == "array":
        return [_sample(schema.get("items", {}), defs)]
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2026-01-02T03:04:05Z"
        pattern = schema.get("pattern")
        fits = [c for c in _STRINGS if pattern is None or re.search(pattern, c)]
        assert fits, f"no sample string matches {pattern!r}: add one to _STRINGS"
        return fits[0]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return None


def _model_sample(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    value = _sample(schema, schema.get("$defs", {}))
    model.model_validate(value)  # the sample itself is valid, or the walk proves nothing
    return value


def _published_schema(spec: routes.RouteSpec) -> dict[str, Any]:
    """The product document's schema for the route's success answer, with its components."""
    document = openapi.document()
    content = document["paths"][spec.path][spec.method.lower()]["responses"][str(spec.status)]["content"]
    schema = dict(content[spec.content_type]["schema"])
    schema["components"] = document["components"]
    return schema


@dataclass
class Twin:
    client: Client
    path: str


@contextlib.contextmanager
def _twin(spec: routes.RouteSpec, view: Any) -> Iterator[Twin]:
    gateway.install()
    app = Chalice(app_name="twins")
    app.register_middleware(web.http_middleware, "http")
    path = "/twin" + "".join("/x" if part.startswith("{") else f"/{part}" for part in spec.path.strip("/").split("/"))
    with routes.registry_scope():
        web.route(
            app,
            path,
            spec.method,
            permission=routes.PUBLIC,
            summary="twin",
            response_model=spec.response_model,
            status=spec.status,
            content_type=spec.content_type,
        )(view)
        with Client(app, stage_name="test") as client:
            yield Twin(client, path)


def _call(twin: Twin, method: str) -> Any:
    return twin.client.http.request(method, twin.path, headers={"Content-Type": "application/json"}, body=b"{}")


def test_the_walk_covers_the_modelled_routes():
    # Given the product's registry / Then most routes are modelled, and none is left out of the walk
    assert len(MODELLED) >= 100
    assert all(s.content_type == "application/json" for s in MODELLED)


@pytest.mark.parametrize("spec", MODELLED, ids=_ids(MODELLED))
def test_route_sends_only_what_its_response_model_declares_when_the_view_returns_more(spec):
    # Given a view of the route's shape that returns every declared field plus one more
    model = spec.response_model
    sample = _model_sample(model)

    def view(ctx: web.Ctx, **params: str) -> dict[str, Any]:
        return {**sample, EXTRA: "secret"}

    # When it answers through route()
    with _twin(spec, view) as twin:
        response = _call(twin, spec.method)

    # Then the status is the route's, the extra field is gone, the body is the model's dump,
    # and it validates against the schema /openapi.json publishes for the product route
    assert response.status_code == spec.status
    body = json.loads(response.body)
    assert EXTRA not in json.dumps(body)
    assert body == model.model_validate(sample).model_dump(mode="json", by_alias=True)
    jsonschema.validate(body, _published_schema(spec))


@pytest.mark.parametrize(
    "spec",
    [s for s in MODELLED if s.response_model.model_json_schema(mode="validation").get("required")],
    ids=_ids([s for s in MODELLED if s.response_model.model_json_schema(mode="validation").get("required")]),
)
def test_route_answers_internal_error_when_the_view_misses_a_required_field(spec):
    # Given a view that leaves out a field the response model requires
    model = spec.response_model
    sample = _model_sample(model)
    missing = model.model_json_schema(mode="validation")["required"][0]
    partial = {k: v for k, v in sample.items() if k != missing}

    # When it answers through route()
    with _twin(spec, lambda ctx, **params: partial) as twin:
        response = _call(twin, spec.method)

    # Then the caller gets 500 INTERNAL, not a body the document does not describe
    assert response.status_code == 500
    assert json.loads(response.body)["error"]["code"] == "INTERNAL"


def test_modelled_route_answers_internal_error_when_the_view_returns_a_raw_response():
    # Given a modelled route whose view bypasses the model with a hand-made Response
    spec = next(s for s in MODELLED if s.method == "GET")

    def view(ctx: web.Ctx, **params: str) -> Response:
        return Response(body={"anything": "goes"}, status_code=200)

    # When it answers
    with _twin(spec, view) as twin:
        response = _call(twin, "GET")

    # Then that is a bug, answered 500 INTERNAL
    assert response.status_code == 500
    assert json.loads(response.body)["error"]["code"] == "INTERNAL"
