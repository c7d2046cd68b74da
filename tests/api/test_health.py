"""GET /health/live and /health/ready through the real app on moto."""

from __future__ import annotations

import boto3

from mamba import bootstrap
from tests.fakes import FakeHealthProbes


def test_live_answers_ok_without_touching_aws(client):
    class NoProbes:
        def __getattr__(self, name: str) -> object:
            raise AssertionError("liveness must not probe AWS")

    with bootstrap.override(health_probes=NoProbes()):
        response = client.http.get("/health/live")

    assert (response.status_code, response.json_body) == (200, {"status": "ok"})


def test_ready_is_503_naming_stepfunctions_when_the_state_machine_is_missing(client):
    # The aws fixture creates the tables and the bucket, but no state machine.
    response = client.http.get("/health/ready")

    assert response.status_code == 503
    body = response.json_body
    assert body["status"] == "unavailable"
    assert (body["checks"]["dynamodb"], body["checks"]["s3"]) == ("ok", "ok")
    assert body["checks"]["stepfunctions"].startswith("error")


def test_ready_is_503_naming_s3_when_the_bucket_is_gone(client):
    settings = bootstrap.settings()
    boto3.client("s3", region_name=settings.region).delete_bucket(Bucket=settings.backup_bucket)

    body = client.http.get("/health/ready").json_body

    assert body["checks"]["s3"].startswith("error")
    assert body["checks"]["dynamodb"] == "ok"


def test_ready_answers_ok_with_every_check_when_all_answer(client):
    probes = FakeHealthProbes(dynamodb="ok", s3="ok", stepfunctions="ok")

    with bootstrap.override(health_probes=probes):
        response = client.http.get("/health/ready")

    assert response.status_code == 200
    assert response.json_body == {"status": "ok", "checks": {"dynamodb": "ok", "s3": "ok", "stepfunctions": "ok"}}
    assert response.headers["X-Request-Id"]
