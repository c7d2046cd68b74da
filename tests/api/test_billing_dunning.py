"""The dunning schedule with an injected clock: past_due → "grace ending" mail → suspension
when the grace period is over; a tenant that paid meanwhile is left running."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from functions.schedules import billing_dunning
from mamba import bootstrap
from tests.api.billing_world import BillingWorld, add_pro_plan, billing_world, link_customer
from tests.api.tenancy_helpers import mail_to
from tests.billing_support import PRO_PRICE, event, invoice_object, signed

DAY = 86400


@pytest.fixture
def world(client) -> Iterator[BillingWorld]:
    with billing_world(client) as w:
        add_pro_plan(w)  # grace_days = 3
        link_customer("tn_a", "cus_a")
        w.stripe.set_subscription("sub_a", "cus_a", "past_due", (PRO_PRICE,))
        failed = event("invoice.payment_failed", invoice_object("in_1", "cus_a", "sub_a"))
        body, headers = signed(failed)
        assert w.api.client.http.post("/webhooks/stripe", headers=headers, body=body).status_code == 200
        w.drain()
        yield w


def state():
    return bootstrap.billing_repository().get_state("tn_a")


def test_the_grace_period_warns_a_day_before_and_suspends_when_it_is_over(world):
    since = state().past_due_since
    assert since is not None

    # Halfway through the grace period nothing is due
    assert billing_dunning.handler({"now": since + DAY}, None)["checked"] == 0

    # A day before the end: the warning, once, and still running
    warned = billing_dunning.handler({"now": since + 2 * DAY + 60}, None)
    assert warned["warned"] == 1 and state().billing_state == "active"
    assert len([m for m in mail_to("alice@example.org") if "suspended soon" in m.subject]) == 1

    # When the grace period is over: suspended, and the workflow started
    done = billing_dunning.handler({"now": since + 3 * DAY + 1}, None)
    assert done["suspended"] == 1
    assert state().billing_state == "suspended"
    assert world.started.names() == ["suspend_tenant"]
    assert [m for m in mail_to("alice@example.org") if "are suspended" in m.subject]

    # and a later run does not suspend again
    assert billing_dunning.handler({"now": since + 4 * DAY}, None)["checked"] == 0
    assert world.started.names() == ["suspend_tenant"]


def test_a_tenant_that_paid_before_the_end_of_grace_is_not_suspended(world):
    since = state().past_due_since
    world.stripe.update_subscription("sub_a", status="active")  # paid; the event is still on its way

    billing_dunning.handler({"now": since + 3 * DAY + 1}, None)

    assert state().billing_state == "active" and state().status == "active"
    assert world.started.runs == []


def test_the_schedule_does_nothing_while_billing_is_off(client):
    assert billing_dunning.handler({}, None) == {"skipped": "billing disabled"}


def test_the_metering_schedule_meters_the_hour_it_is_given(world):
    from functions.schedules import billing_metering

    hour = 1_764_590_400  # 2025-12-01T12:00Z

    done = billing_metering.handler({"now": hour + 3900, "hour": hour}, None)

    assert done["hour"] == hour and done["tenants"] >= 2 and done["failed"] == 0


def test_the_metering_schedule_does_nothing_while_billing_is_off(client):
    from functions.schedules import billing_metering

    assert billing_metering.handler({}, None) == {"skipped": "billing disabled"}


def test_a_canceled_tenants_data_deletion_falls_due_after_the_retention_period(world):
    world.stripe.update_subscription("sub_a", status="canceled")
    body, headers = signed(event("customer.subscription.deleted", {"id": "sub_a", "customer": "cus_a"}))
    world.api.client.http.post("/webhooks/stripe", headers=headers, body=body)
    world.drain()
    due = state().deletion_due_at
    assert due is not None and state().billing_state == "suspended"

    assert billing_dunning.handler({"now": due - 60}, None)["deletion_due"] == 0
    assert billing_dunning.handler({"now": due + 1}, None)["deletion_due"] == 1
    assert billing_dunning.handler({"now": due + 2}, None)["checked"] == 0  # next look in 5 minutes
