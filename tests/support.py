"""Helpers shared by test suites (not fixtures)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3

from mamba.adapters.dynamo.tables import TABLES
from mamba.config import get_settings


def create_resources() -> None:
    """Create the tables and bucket the settings name, from the one table source (for a moto
    of the test's own; the ``aws`` fixture and ``app_on_moto`` have them already)."""
    settings = get_settings()
    dynamodb = boto3.client("dynamodb", region_name=settings.region)
    names = {
        "MainTable": settings.table_main,
        "IdempotencyTable": settings.table_idempotency,
        "MetricsTable": settings.table_metrics,
    }
    for table in TABLES:
        dynamodb.create_table(**table.create_table_kwargs(names[table.logical_id]))
    boto3.client("s3", region_name=settings.region).create_bucket(Bucket=settings.backup_bucket)
    boto3.client("s3", region_name=settings.region).create_bucket(Bucket=settings.export_bucket)
    # The node-token key, under the alias Settings names (KMS_KEY_ID).
    kms = boto3.client("kms", region_name=settings.region)
    key_id = kms.create_key(Description="mamba node tokens (test)")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=settings.kms_key_id, TargetKeyId=key_id)
    # moto's SES refuses mail from an unverified sender, as SES does (account mail, invitations).
    boto3.client("ses", region_name=settings.region).verify_email_identity(EmailAddress=settings.mail_from)


@contextlib.contextmanager
def app_on_moto() -> Iterator[Any]:
    """The real app on moto with the panel's resources, as a ``chalice.test.Client``: the
    ``client`` fixture for a module-scoped fixture (a world shared by many read-only calls).
    It is the process's moto world (tests/moto_world.py), emptied when the module world
    opens; the tests of the module share what they write, as before."""
    from chalice.test import Client

    import app as app_module
    from local import gateway
    from mamba import bootstrap
    from tests.moto_world import world

    moto = world()
    moto.fresh()
    moto.holders += 1
    gateway.install()
    try:
        with Client(app_module.app, stage_name="test") as client:
            yield client
    finally:
        moto.holders -= 1
        bootstrap.reset()


class DynamoCounter:
    """Records the DynamoDB actions moto serves from now on (to pin a route's read budget)."""

    def __init__(self, monkeypatch: Any) -> None:
        from moto.dynamodb.responses import DynamoHandler

        self.actions: list[str] = []
        original = DynamoHandler.call_action

        def counted(handler: Any) -> Any:
            self.actions.append(str(handler.headers.get("X-Amz-Target", "")).rsplit(".", 1)[-1])
            return original(handler)

        monkeypatch.setattr(DynamoHandler, "call_action", counted)
