"""POST /webhooks/stripe and the Stripe events consumer: real-shaped events signed with the
webhook secret, through the real app, moto (DynamoDB, SQS) and the consumer's Powertools
batch processing. Stripe itself is the ``FakeStripe`` gateway (re-fetches read it)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from mamba import bootstrap
from tests.api.billing_world import BillingWorld, add_pro_plan, billing_world, link_customer
from tests.billing_support import (
    OLD_WEBHOOK_SECRET,
    PRO_PRICE,
    RAM_PRICE,
    b64,
    event,
    invoice_object,
    sign,
    signed,
    subscription_object,
)


@pytest.fixture
def world(client) -> Iterator[BillingWorld]:
    with billing_world(client) as w:
        add_pro_plan(w)
        link_customer("tn_a", "cus_a")
        yield w


def post(world: BillingWorld, body: str, headers: dict[str, str]):
    return world.api.client.http.post("/webhooks/stripe", headers=headers, body=body)


def state(tenant_id: str = "tn_a"):
    return bootstrap.billing_repository().get_state(tenant_id)


def sub_event(event_type: str, status: str = "active", **extra):
    return event(event_type, subscription_object("sub_a", "cus_a", status, PRO_PRICE, "tn_a"), **extra)


# --- signature --------------------------------------------------------------------------


def test_a_correctly_signed_event_is_queued_and_its_processing_gives_the_tenant_the_plans_quotas(world):
    # Given the subscription is active at Stripe (the plan's flat price and its metered RAM price)
    world.stripe.set_subscription(
        "sub_a", "cus_a", "active", (PRO_PRICE, RAM_PRICE), tenant_hint="tn_a", metered=(RAM_PRICE,)
    )
    body, headers = signed(sub_event("customer.subscription.created"))

    # When Stripe delivers the event
    response = post(world, body, headers)

    # Then it is acknowledged and queued, and processing makes the tenant "pro"
    assert response.status_code == 200, response.json_body
    assert response.json_body == {"received": True, "duplicate": None, "ignored": None}
    assert world.drain()["batchItemFailures"] == []
    after = state()
    assert (after.plan_id, after.status, after.subscription_id) == ("pro", "active", "sub_a")
    assert after.quotas.servers == 5 and after.quotas.memory_mb == 16384


def test_a_bad_signature_is_400_and_has_no_effect(world):
    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,))
    body, _ = signed(sub_event("customer.subscription.created"))
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign(body, "whsec_" + "x" * 40)}

    response = post(world, body, headers)

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "INVALID_SIGNATURE"
    assert world.messages() == []
    assert state().plan_id == "free"


def test_a_missing_signature_header_is_400(world):
    body, _ = signed(sub_event("customer.subscription.created"))

    response = post(world, body, {"Content-Type": "application/json"})

    assert response.status_code == 400
    assert world.messages() == []


def test_a_stale_timestamp_is_400_even_with_the_right_secret(world):
    body, headers = signed(sub_event("customer.subscription.created"), timestamp=int(time.time()) - 301)

    response = post(world, body, headers)

    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "INVALID_SIGNATURE"
    assert world.messages() == []


def test_a_body_reserialised_after_signing_is_400(world):
    # Given a body signed as sent, then re-serialised with other whitespace (a JSON parser in between)
    body, headers = signed(sub_event("customer.subscription.created"))
    reserialised = json.dumps(json.loads(body), separators=(",", ":"))
    assert json.loads(reserialised) == json.loads(body)

    response = post(world, reserialised, headers)

    assert response.status_code == 400
    assert world.messages() == []


def test_an_event_signed_with_the_previous_secret_is_accepted_during_rotation(world):
    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,))
    body, headers = signed(sub_event("customer.subscription.created"), secret=OLD_WEBHOOK_SECRET)

    assert post(world, body, headers).status_code == 200
    assert len(world.messages()) == 1


def test_a_header_with_two_v1_signatures_verifies_when_either_matches(world):
    # Stripe signs with every active secret while one is rolled
    body, _ = signed(sub_event("customer.subscription.created"))
    ts = int(time.time())
    wrong = sign(body, "whsec_" + "y" * 40, ts).split(",")[1]
    right = sign(body, timestamp=ts).split(",")[1]
    headers = {"Content-Type": "application/json", "Stripe-Signature": f"t={ts},{wrong},{right}"}

    assert post(world, body, headers).status_code == 200


def test_a_base64_encoded_api_gateway_body_is_decoded_before_verification(world):
    # Given API Gateway hands the body base64-encoded (isBase64Encoded)
    import app as app_module

    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,))
    body, headers = signed(sub_event("customer.subscription.created"))
    proxy_event = {
        "resource": "/webhooks/stripe",
        "path": "/webhooks/stripe",
        "httpMethod": "POST",
        "headers": {"content-type": "application/json", "stripe-signature": headers["Stripe-Signature"]},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/webhooks/stripe",
            "httpMethod": "POST",
            "requestId": "req-base64-test",
            "identity": {"sourceIp": "127.0.0.1"},
            "stage": "api",
        },
        "body": b64(body),
        "isBase64Encoded": True,
    }

    # When the Lambda receives it
    answer = app_module.app(proxy_event, None)

    # Then the signature verifies over the decoded bytes
    assert answer["statusCode"] == 200, answer
    assert len(world.messages()) == 1


# --- livemode, duplicates, unknown types ----------------------------------------------------


def test_a_livemode_mismatch_is_acknowledged_and_dropped(world):
    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,))
    body, headers = signed(sub_event("customer.subscription.created", livemode=True))

    response = post(world, body, headers)

    assert response.status_code == 200
    assert response.json_body["ignored"] == "livemode"
    assert world.messages() == []
    assert state().plan_id == "free"


def test_a_duplicate_delivery_has_one_effect(world):
    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,))
    body, headers = signed(sub_event("customer.subscription.created"))

    first, second = post(world, body, headers), post(world, body, headers)
    world.drain()
    third = post(world, body, headers)  # after processing, too

    assert first.status_code == second.status_code == third.status_code == 200
    assert second.json_body["duplicate"] is True and third.json_body["duplicate"] is True
    assert world.stripe.retrieved == ["sub_a"]  # processed once
    assert world.messages() == []


def test_an_unknown_event_type_is_acknowledged_and_ignored(world):
    body, headers = signed(event("product.created", {"id": "prod_1", "object": "product"}))

    response = post(world, body, headers)

    assert response.status_code == 200
    assert response.json_body["ignored"] == "type"
    assert world.messages() == []


def test_billing_disabled_answers_503(client):
    body, headers = signed(event("customer.subscription.created", {"id": "sub_x"}))

    response = client.http.post("/webhooks/stripe", headers=headers, body=body)

    assert response.status_code == 503
    assert response.json_body["error"]["code"] == "BILLING_DISABLED"


# --- ordering, re-fetch, plan from price ---------------------------------------------------


def test_updated_arriving_before_created_ends_in_the_subscriptions_current_state(world):
    # Given the subscription was created (incomplete) and then updated to active at Stripe
    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,))
    created = sub_event("customer.subscription.created", status="incomplete", created=int(time.time()) - 5)
    updated = sub_event("customer.subscription.updated", status="active")

    # When "updated" is delivered and processed before "created"
    for evt in (updated, created):
        body, headers = signed(evt)
        assert post(world, body, headers).status_code == 200
        world.drain()

    # Then the tenant is on the plan, active: the stale "incomplete" payload changed nothing
    after = state()
    assert (after.status, after.plan_id, after.billing_state) == ("active", "pro", "active")


def test_the_plan_comes_from_the_price_id_never_from_metadata(world):
    # Given a subscription on an unknown price whose metadata claims the pro plan
    world.stripe.set_subscription("sub_a", "cus_a", "active", ("price_unknown",), tenant_hint="tn_a")
    evt = event(
        "customer.subscription.created",
        {
            **subscription_object("sub_a", "cus_a", "active", "price_unknown"),
            "metadata": {"tenant_id": "tn_a", "plan": "pro"},
        },
    )
    body, headers = signed(evt)

    post(world, body, headers)
    world.drain()

    assert state().plan_id == "free"


def test_a_tenant_hint_naming_another_tenant_changes_nothing(world):
    # Given cus_a belongs to tn_a, but the subscription's metadata names tn_b
    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,), tenant_hint="tn_b")
    body, headers = signed(sub_event("customer.subscription.created"))

    post(world, body, headers)
    world.drain()

    assert state("tn_a").plan_id == "free" and state("tn_b").plan_id == "free"


def test_checkout_completed_links_the_subscription_and_applies_the_plan(world):
    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,), tenant_hint="tn_a")
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "customer": "cus_a",
        "subscription": "sub_a",
        "client_reference_id": "tn_a",
    }
    body, headers = signed(event("checkout.session.completed", session))

    post(world, body, headers)
    world.drain()

    assert (state().subscription_id, state().plan_id) == ("sub_a", "pro")


# --- failures -----------------------------------------------------------------------------


def test_a_processing_failure_is_reported_for_retry_and_releases_the_claim(world):
    # Given Stripe is down when the consumer re-fetches
    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,))
    evt = sub_event("customer.subscription.created")
    body, headers = signed(evt)
    post(world, body, headers)
    world.stripe.down = True

    answer = world.drain()

    # Then the record is a batch item failure, and the claim is gone, so Stripe's retry is honoured
    assert len(answer["batchItemFailures"]) == 1
    assert bootstrap.billing_repository().event_status(evt["id"]) is None
    world.stripe.down = False
    assert post(world, body, headers).json_body["duplicate"] is None


def test_a_queue_failure_releases_the_claim_and_answers_503_so_stripe_retries(world):
    def refuse(body: str) -> None:
        raise RuntimeError("sqs down")

    evt = sub_event("customer.subscription.created")
    body, headers = signed(evt)

    with bootstrap.override(stripe_event_queue=refuse):
        response = post(world, body, headers)

    assert response.status_code == 503
    assert bootstrap.billing_repository().event_status(evt["id"]) is None


# --- dunning through events -----------------------------------------------------------------


def test_payment_failed_starts_the_grace_period_mails_once_and_keeps_the_tenant_running(world):
    world.stripe.set_subscription("sub_a", "cus_a", "past_due", (PRO_PRICE,))
    failed = event("invoice.payment_failed", invoice_object("in_1", "cus_a", "sub_a", attempt_count=1))
    body, headers = signed(failed)

    post(world, body, headers)
    world.drain()
    # a second event for the same attempt (another id) mails nothing more
    again = event("invoice.payment_failed", invoice_object("in_1", "cus_a", "sub_a", attempt_count=1))
    post(world, *signed(again))
    world.drain()

    after = state()
    assert after.status == "past_due" and after.past_due_since is not None
    assert after.billing_state == "active" and world.started.runs == []
    from tests.api.tenancy_helpers import mail_to

    mails = [m for m in mail_to("alice@example.org") if "payment failed" in m.subject]
    assert len(mails) == 1 and "https://invoice.stripe.com/i/in_1" in str(mails[0].body)


def test_unpaid_suspends_at_once_and_invoice_paid_reactivates(world):
    world.stripe.set_subscription("sub_a", "cus_a", "unpaid", (PRO_PRICE,))
    post(world, *signed(sub_event("customer.subscription.updated", status="unpaid")))
    world.drain()
    assert state().billing_state == "suspended"
    assert world.started.names() == ["suspend_tenant"]

    # A suspended tenant can read, not change: 402; paying stays possible
    assert world.api.get("/v1/tenants/tn_a", "usr_alice").status_code == 200
    refused = world.api.patch("/v1/tenants/tn_a", "usr_alice", {"name": "Renamed"})
    assert refused.status_code == 402 and refused.json_body["error"]["code"] == "PAYMENT_REQUIRED"
    assert world.api.post("/v1/tenants/tn_a/billing/portal", "usr_alice", {}).status_code == 201

    world.stripe.update_subscription("sub_a", status="active")
    post(world, *signed(event("invoice.paid", invoice_object("in_2", "cus_a", "sub_a", status="paid"))))
    world.drain()

    assert state().billing_state == "active" and state().past_due_since is None
    assert world.started.names() == ["suspend_tenant", "reactivate_tenant"]
    assert world.api.patch("/v1/tenants/tn_a", "usr_alice", {"name": "Renamed"}).status_code == 200


def test_canceled_suspends_and_schedules_data_deletion(world):
    world.stripe.set_subscription("sub_a", "cus_a", "canceled", (PRO_PRICE,))
    post(world, *signed(sub_event("customer.subscription.deleted", status="canceled")))
    world.drain()

    after = state()
    assert after.billing_state == "suspended" and after.plan_id == "free"
    assert after.deletion_due_at is not None and after.deletion_due_at > time.time() + 29 * 86400


def test_trial_will_end_mails_only_when_still_trialing_without_a_card(world):
    from tests.api.tenancy_helpers import mail_to

    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,))  # already paid meanwhile
    post(world, *signed(sub_event("customer.subscription.trial_will_end", status="trialing")))
    world.drain()
    assert not [m for m in mail_to("alice@example.org") if "trial" in m.subject]

    world.stripe.update_subscription("sub_a", status="trialing")
    post(world, *signed(sub_event("customer.subscription.trial_will_end", status="trialing")))
    world.drain()
    assert len([m for m in mail_to("alice@example.org") if "trial" in m.subject]) == 1


# --- credit purchases -----------------------------------------------------------------------


def _credit_session(world: BillingWorld) -> dict:
    response = world.api.post("/v1/tenants/tn_a/billing/credits/checkout", "usr_alice", {"amount_cents": 2500})
    assert response.status_code == 201, response.json_body
    return {
        "id": response.json_body["session_id"],
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": 999999,  # the payload is a hint: the re-fetched session's amount counts
        "customer": "cus_a",
        "client_reference_id": "tn_a",
        "metadata": {"tenant_id": "tn_a", "purpose": "credit"},
    }


def test_a_paid_credit_checkout_adds_the_credit_once_for_the_amount_stripe_collected(world):
    session = _credit_session(world)
    world.stripe.pay_session(session["id"])

    for _ in range(2):  # two deliveries under different event ids (a redelivered checkout)
        post(world, *signed(event("checkout.session.completed", session)))
        assert world.drain()["batchItemFailures"] == []

    repo = bootstrap.billing_repository()
    assert repo.credit_balances("tn_a") == {"usd": 2500}
    from mamba.domain.pages import PageRequest

    entries = repo.list_credits("tn_a", PageRequest()).items
    assert [(e.source, e.amount_cents) for e in entries] == [("purchase", 2500)]
    assert [t["amount"] for t in world.stripe.balance_transactions] == [-2500]


def test_an_unpaid_credit_checkout_adds_nothing(world):
    session = _credit_session(world)  # never paid at Stripe, whatever the payload says

    post(world, *signed(event("checkout.session.completed", session)))
    world.drain()

    assert bootstrap.billing_repository().credit_balances("tn_a") == {}


def test_the_local_queue_poller_feeds_the_consumer_and_deletes_what_it_processed(world):
    # The local stack's stand-in for the SQS event source mapping (local/queue_poller.py)
    import boto3

    from local.queue_poller import QueuePoller

    world.stripe.set_subscription("sub_a", "cus_a", "active", (PRO_PRICE,))
    post(world, *signed(sub_event("customer.subscription.created")))
    poller = QueuePoller(boto3.client("sqs", region_name="us-east-1"), world.queue_url, "us-east-1")

    assert poller.poll_once(wait_seconds=0) == 1

    assert state().plan_id == "pro"
    assert world.messages() == [] and poller.batches == 1


def test_payment_action_required_mails_the_hosted_invoice_link(world):
    from tests.api.tenancy_helpers import mail_to

    invoice = invoice_object("in_3ds", "cus_a", "sub_a", hosted_invoice_url="https://invoice.stripe.com/i/in_3ds")
    post(world, *signed(event("invoice.payment_action_required", invoice)))
    world.drain()

    mails = [m for m in mail_to("alice@example.org") if "Authenticate" in m.subject]
    assert len(mails) == 1 and "https://invoice.stripe.com/i/in_3ds" in str(mails[0].body)


def test_paused_suspends_and_resumed_reactivates(world):
    world.stripe.set_subscription("sub_a", "cus_a", "paused", (PRO_PRICE,))
    post(world, *signed(sub_event("customer.subscription.paused", status="paused")))
    world.drain()
    assert state().billing_state == "suspended"

    world.stripe.update_subscription("sub_a", status="active")
    post(world, *signed(sub_event("customer.subscription.resumed", status="active")))
    world.drain()

    assert state().billing_state == "active" and state().plan_id == "pro"
    assert world.started.names() == ["suspend_tenant", "reactivate_tenant"]
