"""Migration 0021 on moto: the stored built-in roles gain the webhook permissions (the roles API,
and the web panel's enabled controls, read them), and lose them again when rolled back."""

from __future__ import annotations

from mamba import bootstrap
from mamba.adapters.dynamo.tenants import DynamoTenantRepository
from mamba.domain.permissions import BUILTIN_ROLES
from mamba.migrations.runner import MigrationContext
from mamba.migrations.versions import m0021_webhook_permissions as m0021

T0 = "2026-12-05T10:00:00Z"


def context(log: list[str], action: str) -> MigrationContext:
    return MigrationContext(version="0021", action=action, now=T0, log=log.append, renew_lease=lambda: None)


def test_up_adds_the_webhook_permissions_to_the_stored_roles_and_down_removes_only_them(aws: None) -> None:
    bootstrap.dynamo_tables()
    tenants, log = DynamoTenantRepository(), []
    # Given the roles as the code before 0021 stored them
    m0021.down(context(log, "down"))
    before = tenants.builtin_roles()
    assert not any(m0021.WEBHOOK_PERMISSIONS & set(granted) for granted in before.values())
    # When 0021 runs (twice: it is idempotent)
    m0021.up(context(log, "up"))
    m0021.up(context(log, "up"))
    # Then the listing equals the code: owners and admins manage webhooks, operators read them, viewers neither
    after = tenants.builtin_roles()
    assert after == dict(BUILTIN_ROLES)
    assert m0021.WEBHOOK_PERMISSIONS <= set(after["owner"]) and m0021.WEBHOOK_PERMISSIONS <= set(after["admin"])
    assert "webhooks.read" in after["operator"] and "webhooks.manage" not in after["operator"]
    assert not m0021.WEBHOOK_PERMISSIONS & set(after["viewer"])
    # And rolled back, only the webhook permissions go
    m0021.down(context(log, "down"))
    assert {name: set(p) for name, p in tenants.builtin_roles().items()} == {
        name: set(granted) - m0021.WEBHOOK_PERMISSIONS for name, granted in BUILTIN_ROLES.items()
    }
