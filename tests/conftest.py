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
        # argon2id at the cheapest cost Settings accepts (8 MiB, one pass): about 15x cheaper
        # than production's 64 MiB and two passes, which tests/unit/test_password_cost.py pins.
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "8192",
        # The notification events queue, which the moto world creates (tests/moto_world.py).
        "EVENTS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/mamba-events",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from collections.abc import Iterator

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order for two xdist workers (``make test`` runs ``--dist loadgroup --no-loadscope-reorder``,
    so xdist hands out work in this order): the e2e group first (one worker, the local stack and
    the browser journeys, the longest unit), then the other groups, then the ungrouped tests,
    one by one, which even out the end. Stable: files keep their order within each part."""

    def rank(item: pytest.Item) -> int:
        group = item.get_closest_marker("xdist_group")
        if group is None:
            return 2
        return 0 if group.args[:1] == ("e2e",) else 1

    items.sort(key=rank)


@pytest.fixture(autouse=True)
def _moto_only_where_asked(request: pytest.FixtureRequest) -> None:
    """Outside tests that use moto (``aws`` or a module world), the process's mock is paused."""
    if "aws" not in request.fixturenames:
        from tests import moto_world

        if not moto_world.holders():
            moto_world.pause_if_started()


@pytest.fixture
def aws(request: pytest.FixtureRequest) -> None:
    """moto for every AWS call, with the panel's tables, bucket, KMS key and SES sender and no
    data: the process's one moto world, emptied for this test (tests/moto_world.py). The
    Step Functions workflows exist only for tests that ask for ``deployed_workflows``."""
    from tests.moto_world import world

    world().fresh(workflows="deployed_workflows" in request.fixturenames)


@pytest.fixture
def client(aws: None) -> Iterator[object]:
    from chalice.test import Client

    from local import gateway

    gateway.install()
    import app as app_module

    with Client(app_module.app, stage_name="test") as c:
        yield c
