"""Each fake of tests/fakes.py offers every method of its port, with the port's parameter names,
kinds and defaults, so a service can be handed the fake wherever it takes the port (what the
contract tests then prove is that the fake also behaves like the adapter)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from mamba import ports
from mamba.services import (
    account_deletion,
    accounts,
    admin,
    api_keys,
    catalog,
    metrics,
    oauth,
    schedules,
    service_accounts,
    tenants,
    two_factor,
    webhooks,
)
from tests import fakes, fakes_passkeys, fakes_schedules

PAIRS: list[tuple[Any, Any]] = [
    (ports.OperationRepository, fakes.FakeOperationRepository),
    (ports.PteroIds, fakes.FakePteroIds),
    (ports.PteroRecords, fakes.FakePteroRecords),
    (ports.PasskeyStore, fakes_passkeys.FakePasskeyStore),
    (schedules.ScheduleRepository, fakes_schedules.FakeScheduleRepository),
    (schedules.ScheduleTrigger, fakes_schedules.FakeScheduleTrigger),
    (schedules.TaskRunner, fakes_schedules.FakeTaskRunner),
    (ports.FleetReader, fakes.FakeFleetReader),
    (ports.DeadLetterQueue, fakes.FakeDeadLetterQueue),
    (ports.DeadLetterErrors, fakes.FakeDeadLetterErrors),
    (ports.Workflows, fakes.FakeWorkflows),
    (ports.HealthProbes, fakes.FakeHealthProbes),
    (ports.Mailer, fakes.FakeMailer),
    (ports.EventPublisher, fakes.FakeEventPublisher),
    (ports.NotificationStore, fakes.FakeNotificationStore),
    (ports.RateLimiter, fakes.FakeRateLimiter),
    (ports.Captcha, fakes.FakeCaptcha),
    (ports.NodeAgent, fakes.FakeNodeAgent),
    (ports.HostResolver, fakes.FakeHostResolver),
    (webhooks.WebhookRepository, fakes.FakeWebhookRepository),
    (webhooks.WebhookSender, fakes.FakeWebhookSender),
    (ports.ServerRepository, fakes.FakeServerRepository),
    (ports.NodeRepository, fakes.FakeNodeRepository),
    (ports.AllocationRepository, fakes.FakeAllocationRepository),
    (ports.ServerNetworkStore, fakes.FakeServerNetworkStore),
    (ports.BlueprintRepository, fakes.FakeBlueprintRepository),
    (ports.BackupRepository, fakes.FakeBackupRepository),
    (ports.BackupStore, fakes.FakeBackupStore),
    (ports.BillingRepository, fakes.FakeBillingRepository),
    (ports.PaymentGateway, fakes.FakeStripe),
    (ports.WebhookVerifier, fakes.FakeWebhookVerifier),
    (ports.AuditLog, fakes.FakeAuditLog),
    (ports.IdentityRepository, fakes.FakeIdentityRepository),
    (ports.KeyUseRecorder, fakes.FakeApiKeyRepository),
    (ports.ServerLocks, fakes.FakeServerLocks),
    (ports.ServerLifecycleStore, fakes.FakeServerLifecycleStore),
    (ports.PlacementStore, fakes.FakePlacementStore),
    (ports.NodeHealthStore, fakes.FakeNodeHealthStore),
    (ports.TenantDataStore, fakes.FakeTenantData),
    (ports.TaskTokenStore, fakes.FakeTaskTokens),
    (ports.TaskCallbacks, fakes.FakeTaskCallbacks),
    (accounts.UserRepository, fakes.FakeUserRepository),
    (oauth.OAuthStore, fakes.FakeOAuthStore),
    (oauth.IdentityProvider, fakes.FakeIdentityProvider),
    (account_deletion.AccountRemover, fakes.FakeUserRepository),
    (accounts.PasswordHashing, fakes.FakeHasher),
    (accounts.OneTimeTokenStore, fakes.FakeTokenStore),
    (accounts.SessionStore, fakes.FakeSessionStore),
    (accounts.KeyRevoker, fakes.FakeApiKeyRepository),
    (two_factor.TwoFactorStore, fakes.FakeTwoFactorStore),
    (api_keys.ApiKeyRepository, fakes.FakeApiKeyRepository),
    (service_accounts.ServiceAccountRepository, fakes.FakeServiceAccountRepository),
    (tenants.TenancyRepository, fakes.FakeTenancyRepository),
    (admin.AdminRepository, fakes.FakeAdminRepository),
    (catalog.UsageReader, fakes.FakeTenantUsageReader),
    (metrics.MetricsStore, fakes.FakeMetricsStore),
    (metrics.EventStore, fakes.FakeServerEvents),
]


def _members(protocol: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for klass in reversed(protocol.__mro__):
        if klass in (object,) or klass.__name__ in ("Protocol", "Generic"):
            continue
        for name, value in vars(klass).items():
            if callable(value) and (not name.startswith("_") or name == "__call__"):
                found[name] = value
    return found


def _problems(protocol: Any, fake: Any) -> list[str]:
    problems = []
    for name, wanted in _members(protocol).items():
        offered = getattr(fake, name, None)
        if offered is None:
            problems.append(f"{fake.__name__} has no {name}")
            continue
        want = list(inspect.signature(wanted).parameters.values())[1:]
        have = {p.name: p for p in list(inspect.signature(offered).parameters.values())[1:]}
        if any(p.kind is p.VAR_KEYWORD for p in have.values()):
            continue
        for param in want:
            got = have.pop(param.name, None)
            if got is None:
                problems.append(f"{fake.__name__}.{name} lacks parameter {param.name}")
            elif param.kind is param.KEYWORD_ONLY and got.kind not in (got.KEYWORD_ONLY, got.POSITIONAL_OR_KEYWORD):
                problems.append(f"{fake.__name__}.{name}: {param.name} must be passable by keyword")
            elif param.default is not param.empty and got.default is got.empty:
                problems.append(f"{fake.__name__}.{name}: {param.name} needs a default, as in the port")
        extra = [p.name for p in have.values() if p.default is p.empty and p.kind is not p.VAR_POSITIONAL]
        if extra:
            problems.append(f"{fake.__name__}.{name} requires {extra}, which the port does not pass")
    return problems


@pytest.mark.parametrize(("protocol", "fake"), PAIRS, ids=[f"{p.__name__}-{f.__name__}" for p, f in PAIRS])
def test_the_fake_offers_every_method_of_its_port_with_the_same_parameters(protocol, fake):
    assert _problems(protocol, fake) == []


def test_every_fake_class_of_tests_fakes_stands_for_a_port():
    # A new fake gets a row above (and a contract), or it is not a fake of a port.
    paired = {fake for _, fake in PAIRS}
    helpers = {fakes.FakeGuard, fakes.FakeSecondFactor}  # a value the placement fake returns; a callable port
    fake_classes = {v for k, v in vars(fakes).items() if k.startswith("Fake") and inspect.isclass(v)}
    assert fake_classes - paired - helpers == set()
