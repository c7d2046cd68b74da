"""Readiness over fake probes."""

from __future__ import annotations

import pytest

from mamba.domain.errors import TransientError, ValidationError
from mamba.services.health import probe_one, readiness
from tests.fakes import FakeHealthProbes


@pytest.mark.parametrize(
    ("checks", "ready"),
    [
        ({"dynamodb": "ok", "s3": "ok", "stepfunctions": "ok"}, True),
        ({"dynamodb": "ok", "s3": "error: AccessDenied", "stepfunctions": "ok"}, False),
    ],
)
def test_readiness_is_ok_only_when_every_check_is_ok(checks, ready):
    assert readiness(FakeHealthProbes(**checks)) == (ready, checks)


def test_probe_one_answers_ok_when_the_service_answers():
    assert probe_one(FakeHealthProbes(s3="ok"), "s3") == {"check": "s3", "status": "ok"}


def test_probe_one_raises_transient_when_the_service_fails():
    with pytest.raises(TransientError, match="s3 did not answer"):
        probe_one(FakeHealthProbes(s3="error: timeout"), "s3")


def test_probe_one_rejects_unknown_check():
    with pytest.raises(ValidationError) as caught:
        probe_one(FakeHealthProbes(s3="ok"), "redis")

    assert caught.value.details == {"known": ["s3"]}
