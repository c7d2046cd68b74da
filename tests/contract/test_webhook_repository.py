"""``WebhookRepository`` (mamba.services.webhooks) over its fake and over DynamoWebhookRepository on
moto (KMS-encrypted secrets, the transaction-kept limit, the due-list's sparse index, the claim's
condition, the attempt log newest first with cursors)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mamba.domain.errors import NotFoundError, ValidationError, WebhookLimitError
from mamba.domain.events import make_event
from mamba.domain.pages import PageRequest
from mamba.domain.webhooks import Attempt, Delivery, Webhook
from tests.fakes import FakeWebhookRepository

T0 = 1_800_000_000
ISO = "2027-01-15T08:00:00Z"


def webhook(webhook_id: str = "wh_1", tenant_id: str = "tn_a", **over: Any) -> Webhook:
    return replace(
        Webhook(
            webhook_id,
            tenant_id,
            "https://hooks.example.com/in",
            ("backup.failed",),
            True,
            ISO,
            ISO,
            secret_hint="abcd",
        ),
        **over,
    )


def delivery(delivery_id: str, due: int, webhook_id: str = "wh_1") -> Delivery:
    event = make_event(
        "backup.failed",
        dedupe_key=delivery_id,
        occurred_at=ISO,
        tenant_id="tn_a",
        server_id="srv_1",
        payload={"server_name": "Survival", "reason": "disk full"},
    )
    return Delivery(delivery_id, webhook_id, "tn_a", event, created_at=due, next_attempt_at=due)


def attempt(number: int, at: int, delivery_id: str = "whd_1") -> Attempt:
    return Attempt(delivery_id, "wh_1", "tn_a", "evt_1", "backup.failed", number, at, "retrying", 503, 12, None, "busy")


class WebhookRepositoryContract:
    @pytest.fixture
    def repo(self) -> Any:
        raise NotImplementedError

    def test_a_webhook_and_its_secret_are_read_back_within_its_tenant_only(self, repo):
        repo.add(webhook(), "whsec_" + "s" * 43, 10)

        assert repo.get("tn_a", "wh_1") == webhook()
        assert repo.secret(webhook()) == "whsec_" + "s" * 43
        assert [w.id for w in repo.of_tenant("tn_a")] == ["wh_1"]
        assert repo.of_tenant("tn_b") == []
        with pytest.raises(NotFoundError):
            repo.get("tn_b", "wh_1")

    def test_the_limit_holds_and_a_delete_frees_a_place(self, repo):
        repo.add(webhook("wh_1"), "whsec_1" * 7, 2)
        repo.add(webhook("wh_2"), "whsec_2" * 7, 2)
        with pytest.raises(WebhookLimitError):
            repo.add(webhook("wh_3"), "whsec_3" * 7, 2)
        repo.delete("tn_a", "wh_1")
        repo.add(webhook("wh_3"), "whsec_3" * 7, 2)
        assert sorted(w.id for w in repo.of_tenant("tn_a")) == ["wh_2", "wh_3"]
        with pytest.raises(NotFoundError):
            repo.delete("tn_a", "wh_1")

    def test_save_changes_settings_but_not_the_secret_and_set_secret_replaces_it(self, repo):
        repo.add(webhook(), "whsec_old" * 5, 10)
        repo.save(webhook(enabled=False, events=("backup.completed",), failing_since=T0, disabled_reason="failing"))
        stored = repo.get("tn_a", "wh_1")
        assert (stored.enabled, stored.events, stored.failing_since, stored.disabled_reason) == (
            False,
            ("backup.completed",),
            T0,
            "failing",
        )
        assert repo.secret(stored) == "whsec_old" * 5
        repo.set_secret(replace(stored, secret_hint="wxyz"), "whsec_new" * 5)
        assert repo.secret(stored) == "whsec_new" * 5
        assert repo.get("tn_a", "wh_1").secret_hint == "wxyz"

    def test_disable_answers_true_only_for_the_call_that_disabled_it(self, repo):
        repo.add(webhook(), "whsec_" + "d" * 43, 10)
        assert repo.disable(webhook(failing_since=T0), "failing", ISO) is True
        assert repo.disable(webhook(failing_since=T0), "failing", ISO) is False
        stored = repo.get("tn_a", "wh_1")
        assert (stored.enabled, stored.disabled_reason, stored.failing_since) == (False, "failing", T0)

    def test_mark_failing_starts_and_ends_the_run_of_failures(self, repo):
        repo.add(webhook(), "whsec_" + "f" * 43, 10)
        repo.mark_failing(webhook(), T0)
        assert repo.get("tn_a", "wh_1").failing_since == T0
        repo.mark_failing(webhook(), None)
        assert repo.get("tn_a", "wh_1").failing_since is None

    def test_a_delivery_is_recorded_once_and_due_in_time_order(self, repo):
        assert repo.add_delivery(delivery("whd_b", T0 + 10)) is True
        assert repo.add_delivery(delivery("whd_b", T0 + 10)) is False
        assert repo.add_delivery(delivery("whd_a", T0 + 5)) is True
        assert repo.add_delivery(delivery("whd_c", T0 + 99)) is True

        due = repo.due(T0 + 10, 10)

        assert [d.id for d in due] == ["whd_a", "whd_b"]
        assert due[0].event.payload == {"server_name": "Survival", "reason": "disk full"}

    def test_a_claim_succeeds_once_per_attempt_and_finish_moves_or_ends_the_delivery(self, repo):
        repo.add_delivery(delivery("whd_1", T0))
        [due] = repo.due(T0, 10)
        assert repo.claim(due, T0 + 120) is True
        assert repo.claim(due, T0 + 120) is False  # a second sender with the same view
        assert repo.due(T0 + 60, 10) == []  # leased
        assert [d.attempts for d in repo.due(T0 + 120, 10)] == [1]  # the lease ended: taken over

        repo.finish(replace(due, attempts=1, next_attempt_at=T0 + 300))
        assert repo.due(T0 + 299, 10) == []
        [again] = repo.due(T0 + 300, 10)
        assert again.attempts == 1

        repo.finish(replace(again, status="succeeded", next_attempt_at=None))
        assert repo.due(T0 + 10**6, 10) == []
        assert repo.claim(again, T0 + 999) is False

    def test_redeliver_puts_an_ended_delivery_back_for_its_tenant_only(self, repo):
        from mamba.domain.errors import ConflictError

        repo.add_delivery(delivery("whd_1", T0))
        with pytest.raises(ConflictError):  # still waiting
            repo.redeliver("tn_a", "wh_1", "whd_1", T0 + 5)
        [due] = repo.due(T0, 10)
        repo.claim(due, T0 + 120)
        repo.finish(replace(due, attempts=1, status="failed", next_attempt_at=None))
        with pytest.raises(NotFoundError):
            repo.redeliver("tn_b", "wh_1", "whd_1", T0 + 5)
        with pytest.raises(NotFoundError):
            repo.redeliver("tn_a", "wh_1", "whd_missing", T0 + 5)

        again = repo.redeliver("tn_a", "wh_1", "whd_1", T0 + 500)

        assert (again.status, again.attempts, again.created_at, again.event.id) == (
            "pending",
            0,
            T0 + 500,
            due.event.id,
        )
        assert [d.id for d in repo.due(T0 + 500, 10)] == ["whd_1"]

    def test_the_attempt_log_is_newest_first_in_pages(self, repo):
        for number in range(1, 6):
            repo.add_attempt(attempt(number, T0 * 1000 + number * 1000))

        first = repo.attempts("tn_a", "wh_1", PageRequest(limit=2))
        second = repo.attempts("tn_a", "wh_1", PageRequest(limit=2, cursor=first.next_cursor))
        rest = repo.attempts("tn_a", "wh_1", PageRequest(limit=2, cursor=second.next_cursor))

        assert [a.attempt for a in first.items + second.items + rest.items] == [5, 4, 3, 2, 1]
        assert rest.next_cursor is None
        assert first.items[0] == attempt(5, T0 * 1000 + 5000)
        assert repo.attempts("tn_b", "wh_1", PageRequest()).items == []


class TestWebhookRepositoryOnFake(WebhookRepositoryContract):
    @pytest.fixture
    def repo(self) -> Any:
        return FakeWebhookRepository()


class TestWebhookRepositoryOnDynamo(WebhookRepositoryContract):
    @pytest.fixture
    def repo(self, aws: None) -> Any:
        from mamba import bootstrap

        return bootstrap.webhook_repository()

    def test_the_secret_is_stored_encrypted_and_bound_to_its_webhook(self, repo):
        from mamba.adapters.dynamo import keys
        from mamba.adapters.dynamo.webhooks import WebhookItem
        from mamba.domain.errors import DependencyUnavailableError

        repo.add(webhook(), "whsec_" + "k" * 43, 10)
        item = WebhookItem.get(*keys.webhook("tn_a", "wh_1"))
        assert "whsec_" not in item.secret_cipher
        # Copied onto another webhook, the ciphertext does not decrypt (the KMS encryption context).
        repo.add(webhook("wh_2"), "whsec_" + "m" * 43, 10)
        other = WebhookItem.get(*keys.webhook("tn_a", "wh_2"))
        other.update(actions=[WebhookItem.secret_cipher.set(item.secret_cipher)])
        with pytest.raises(DependencyUnavailableError):
            repo.secret(webhook("wh_2"))

    def test_a_tampered_cursor_is_refused(self, repo):
        for number in range(1, 4):
            repo.add_attempt(attempt(number, T0 * 1000 + number))
        page = repo.attempts("tn_a", "wh_1", PageRequest(limit=1))
        with pytest.raises(ValidationError):
            repo.attempts("tn_b", "wh_1", PageRequest(limit=1, cursor=page.next_cursor))
