"""The one error shape at the HTTP boundary, through chalice.test.Client."""

from __future__ import annotations

import json

import pytest

from mamba import bootstrap

JSON = {"Content-Type": "application/json"}


def _assert_error_shape(response, status: int, code: str) -> dict:
    body = response.json_body
    assert response.status_code == status, body
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert response.headers["Content-Type"] == "application/json"
    return body


def test_unknown_route_is_404_not_found_with_request_id(client):
    response = client.http.get("/v1/no-such-thing", headers={"X-Request-Id": "client-id-404-0001"})

    body = _assert_error_shape(response, 404, "NOT_FOUND")
    assert body["request_id"] == "client-id-404-0001"


def test_wrong_method_is_405_in_our_shape(client):
    response = client.http.post("/health/live", headers=JSON, body=b"{}")

    body = _assert_error_shape(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in body["error"]["message"]
    assert response.headers["Allow"] == "GET"


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [
        ("/health/live", "get", 200),
        ("/v1/nope", "get", 404),
        ("/health/live", "delete", 405),
        ("/openapi.json", "get", 200),
    ],
)
def test_every_response_echoes_a_valid_incoming_request_id(client, path, method, status):
    response = getattr(client.http, method)(path, headers={"X-Request-Id": "trace-from-client-42"})

    assert response.status_code == status
    assert response.headers["X-Request-Id"] == "trace-from-client-42"


def test_request_id_is_replaced_when_incoming_one_is_unsafe(client):
    response = client.http.get("/health/live", headers={"X-Request-Id": "<img src=x>"})

    assert response.headers["X-Request-Id"] != "<img src=x>"
    assert len(response.headers["X-Request-Id"]) >= 8


def test_request_id_is_generated_when_none_is_sent(client):
    first = client.http.get("/health/live").headers["X-Request-Id"]
    second = client.http.get("/health/live").headers["X-Request-Id"]

    assert first and second and first != second


def test_malformed_json_is_400_validation_error_naming_the_body(scratch):
    response = scratch.http.post("/widgets", headers=JSON, body=b'{"name": "a", size: }')

    body = _assert_error_shape(response, 400, "VALIDATION_ERROR")
    [field] = body["error"]["details"]["fields"]
    assert field["field"] == "body" and field["type"] == "json_invalid"


def test_schema_failure_is_400_validation_error_with_the_failing_fields(scratch):
    response = scratch.http.post("/widgets", headers=JSON, body=json.dumps({"name": "", "size": 0}))

    body = _assert_error_shape(response, 400, "VALIDATION_ERROR")
    assert {f["field"] for f in body["error"]["details"]["fields"]} == {"name", "size"}
    assert "size" in json.dumps(body["error"]["details"])


def test_valid_body_reaches_the_view(scratch):
    response = scratch.http.post("/widgets", headers=JSON, body=json.dumps({"name": "gear", "size": 3}))

    assert response.status_code == 201
    assert response.json_body == {"name": "gear", "size": 3}


def test_wrong_content_type_is_415_in_our_shape(scratch):
    response = scratch.http.post("/widgets", headers={"Content-Type": "text/xml"}, body=b"<widget/>")

    _assert_error_shape(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_unexpected_exception_is_500_internal_without_exception_text(scratch, log_output):
    response = scratch.http.get("/boom", headers={"X-Request-Id": "req-boom-000001"})

    body = _assert_error_shape(response, 500, "INTERNAL")
    raw = response.body.decode()
    assert "kaboom" not in raw and "Traceback" not in raw and "KeyError" not in raw
    assert body["error"] == {"code": "INTERNAL", "message": "An internal error occurred.", "details": {}}
    logged = [json.loads(line) for line in log_output.getvalue().splitlines()]
    [failure] = [line for line in logged if line["message"] == "unhandled error"]
    assert failure["request_id"] == "req-boom-000001"
    assert "kaboom" in failure["exception"], "the log keeps what the body hides"


def test_framework_500_text_becomes_internal_when_a_plain_view_fails_in_debug_mode(scratch):
    response = scratch.http.get("/plain-boom")

    _assert_error_shape(response, 500, "INTERNAL")
    assert "plain failure" not in response.body.decode()
    assert "Traceback" not in response.body.decode()


def test_chalice_view_error_gets_our_shape_when_a_plain_view_raises_it(scratch):
    response = scratch.http.get("/plain-chalice-error")

    body = _assert_error_shape(response, 404, "NOT_FOUND")
    assert body["error"]["message"] == "no such thing"


def test_billing_route_is_503_billing_disabled_before_auth_and_parsing_when_billing_is_off(scratch):
    assert bootstrap.settings().billing_enabled is False

    response = scratch.http.post("/tenants/t_1/billing", headers=JSON, body=b"{not json")

    body = _assert_error_shape(response, 503, "BILLING_DISABLED")
    assert "Billing" in body["error"]["message"]


def test_billing_route_goes_on_to_auth_when_billing_is_on(scratch):
    enabled = bootstrap.settings().model_copy(update={"billing_enabled": True})

    with bootstrap.override(settings=enabled):
        response = scratch.http.post("/tenants/t_1/billing", headers=JSON, body=b"{}")

    _assert_error_shape(response, 401, "UNAUTHORIZED")


def test_every_log_line_of_a_request_carries_its_request_id(scratch, log_output):
    scratch.http.post(
        "/widgets", headers={**JSON, "X-Request-Id": "req-logs-000042"}, body=json.dumps({"name": "g", "size": 1})
    )

    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["making a widget", "request"]
    assert all(line["request_id"] == "req-logs-000042" for line in lines)
    access = lines[-1]
    assert (access["method"], access["path"], access["status"]) == ("POST", "/widgets", 201)


def test_registry_is_restored_when_a_throwaway_app_is_done():
    from mamba import web
    from tests.api.conftest import build_scratch_app

    before = list(web.REGISTRY)
    with web.registry_scope():
        build_scratch_app()
        assert "/widgets" in {spec.path for spec in web.REGISTRY}
        with web.registry_scope():
            pass  # a nested scope restores to the outer one, not to empty

    assert web.REGISTRY == before
    with web.registry_scope():
        build_scratch_app()  # no "declared twice": the first app's routes are gone
