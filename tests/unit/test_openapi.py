"""The OpenAPI document is built from RouteSpecs and pydantic models, and is valid 3.1."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from pydantic import BaseModel, Field

from mamba import openapi, routes
from mamba.routes import PUBLIC, RouteSpec


class Tag(BaseModel):
    name: str


class ServerIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    memory_mb: int = Field(ge=128)
    tags: list[Tag] = Field(default_factory=list)
    note: str | None = None


class ServerOut(BaseModel):
    id: str
    name: str
    tags: list[Tag]


class Echo(BaseModel):
    """Used both ways: request and response."""

    value: int = 0


SPECS = [
    RouteSpec("/health/live", "GET", PUBLIC, "Up", tags=("ops",)),
    RouteSpec(
        "/v1/tenants/{tenant_id}/servers",
        "POST",
        "servers.create",
        "Create a server",
        tags=("servers",),
        request_model=ServerIn,
        response_model=ServerOut,
        status=202,
    ),
    RouteSpec(
        "/v1/tenants/{tenant_id}/servers",
        "GET",
        "servers.read",
        "List servers",
        query=("limit", "cursor"),
    ),
    RouteSpec("/v1/tenants/{tenant_id}/billing", "GET", "billing.read", "Billing", billing=True),
    RouteSpec("/v1/echo", "POST", PUBLIC, "Echo", request_model=Echo, response_model=Echo),
    RouteSpec("/v1/report.csv", "GET", "audit.read", "CSV", content_type="text/csv"),
]


@pytest.fixture(scope="module")
def doc():
    return openapi.build(SPECS)


def test_document_validates_as_openapi_31(doc):
    validate(doc)

    assert doc["openapi"] == "3.1.0"


def test_validator_rejects_document_when_it_is_broken(doc):
    broken = {**doc, "paths": {"/x": {"get": {"responses": {"200": {"content": "nope"}}}}}}

    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_spec_appears_with_its_permission(doc):
    for spec in SPECS:
        operation = doc["paths"][spec.path][spec.method.lower()]
        assert operation["x-permission"] == spec.permission
        assert operation["summary"] == spec.summary


def test_operation_ids_are_unique(doc):
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]

    assert len(ids) == len(set(ids))


def test_request_and_response_models_are_referenced_components(doc):
    create = doc["paths"]["/v1/tenants/{tenant_id}/servers"]["post"]
    schemas = doc["components"]["schemas"]

    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ServerIn"}
    assert create["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ServerOut"
    }
    assert schemas["ServerIn"]["properties"]["memory_mb"]["minimum"] == 128
    assert schemas["ServerIn"]["required"] == ["name", "memory_mb"]
    assert schemas["Tag"]["required"] == ["name"], "a nested model is its own component, emitted once"
    assert {"ErrorOut", "ErrorDetail"} <= set(schemas)


def test_a_model_used_both_ways_resolves_in_both_places(doc):
    echo = doc["paths"]["/v1/echo"]["post"]
    schemas = doc["components"]["schemas"]

    for ref in (
        echo["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        echo["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
    ):
        assert ref.removeprefix("#/components/schemas/") in schemas


def test_path_and_query_parameters_are_declared(doc):
    listing = doc["paths"]["/v1/tenants/{tenant_id}/servers"]["get"]

    assert [(p["name"], p["in"], p["required"]) for p in listing["parameters"]] == [
        ("tenant_id", "path", True),
        ("limit", "query", False),
        ("cursor", "query", False),
    ]


def test_public_routes_need_no_credentials_and_list_no_auth_errors(doc):
    live = doc["paths"]["/health/live"]["get"]

    assert live["security"] == []
    assert set(live["responses"]) == {"200", "400", "500"}


def test_protected_routes_declare_auth_and_error_responses(doc):
    listing = doc["paths"]["/v1/tenants/{tenant_id}/servers"]["get"]

    assert listing["security"] == [{"bearerAuth": []}, {"apiKey": []}]
    assert {"401", "403", "404", "429"} <= set(listing["responses"])
    assert listing["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }


def test_billing_routes_document_503_billing_disabled(doc):
    billing = doc["paths"]["/v1/tenants/{tenant_id}/billing"]["get"]["responses"]
    servers = doc["paths"]["/v1/tenants/{tenant_id}/servers"]["get"]["responses"]
    assert "BILLING_DISABLED" in billing["503"]["description"]
    assert "BILLING_DISABLED" not in servers["503"]["description"]


def test_a_route_that_reads_a_dependency_documents_503_and_a_self_contained_one_does_not(doc):
    assert (
        "NODE_UNAVAILABLE" in doc["paths"]["/v1/tenants/{tenant_id}/servers"]["post"]["responses"]["503"]["description"]
    )
    assert "503" not in doc["paths"]["/health/live"]["get"]["responses"]


def test_a_change_documents_409_and_on_a_tenant_402_and_a_json_body_415(doc):
    create = doc["paths"]["/v1/tenants/{tenant_id}/servers"]["post"]["responses"]
    listing = doc["paths"]["/v1/tenants/{tenant_id}/servers"]["get"]["responses"]
    echo = doc["paths"]["/v1/echo"]["post"]["responses"]

    assert {"402", "409", "415"} <= set(create)
    assert not {"402", "409", "415"} & set(listing)
    assert {"409", "415"} <= set(echo) and "402" not in echo


def test_a_route_lists_its_own_extra_errors_and_statuses_answered_with_its_model():
    specs = [
        RouteSpec("/v1/auth/login", "POST", PUBLIC, "Log in", request_model=Echo, errors=(401, 429)),
        RouteSpec("/health/ready", "GET", PUBLIC, "Ready", response_model=Echo, also=(503,)),
    ]
    doc = openapi.build(specs)

    login = doc["paths"]["/v1/auth/login"]["post"]["responses"]
    ready = doc["paths"]["/health/ready"]["get"]["responses"]
    assert {"401", "429"} <= set(login)
    assert ready["503"]["content"] == ready["200"]["content"]


def test_wings_callbacks_document_pterodactyls_error_shape():
    doc = openapi.build([RouteSpec("/api/remote/servers/{uuid}", "GET", routes.NODE, "Wings")])

    responses = doc["paths"]["/api/remote/servers/{uuid}"]["get"]["responses"]
    assert set(responses) == {"200", "400", "401", "403", "404", "409", "500", "503"}
    assert responses["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RemoteErrorOut"}
    assert doc["components"]["schemas"]["RemoteErrorOut"]["required"] == ["errors"]


def test_non_json_success_is_documented_as_text(doc):
    csv = doc["paths"]["/v1/report.csv"]["get"]["responses"]["200"]

    assert csv["content"] == {"text/csv": {"schema": {"type": "string"}}}


def test_document_is_rebuilt_when_the_registry_changes():
    first = openapi.document()

    with routes.registry_scope():
        routes.register(RouteSpec(path="/v1/scratch", method="GET", permission=PUBLIC, summary="s"))
        during = openapi.document()

    after = openapi.document()
    assert "/v1/scratch" in during["paths"]
    assert "/v1/scratch" not in first["paths"] and "/v1/scratch" not in after["paths"]
    assert openapi.document() is after, "unchanged registry: the cached document is reused"
