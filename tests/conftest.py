"""Shared fixtures. Environment first: Settings is parsed once, from these variables."""

from __future__ import annotations

import os
import secrets

os.environ.update(
    {
        "MAMBA_ENV": "test",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "MAMBA_LOCAL_SECRETS_FILE": "/nonexistent",
        "POWERTOOLS_METRICS_NAMESPACE": "MambaTest",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from collections.abc import Iterator

import pytest


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for every AWS call, with the panel's tables and bucket created from the shared definitions."""
    from moto import mock_aws

    from mamba import bootstrap

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        bootstrap.reset()
        from tests.support import create_resources

        create_resources()
        yield
        bootstrap.reset()


@pytest.fixture
def client(aws: None) -> Iterator[object]:
    from chalice.test import Client

    from local import gateway

    gateway.install()
    import app as app_module

    with Client(app_module.app, stage_name="test") as c:
        yield c
