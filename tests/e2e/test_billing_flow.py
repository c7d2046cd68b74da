"""Billing on the whole local stack (issue 7, "Done when"):

1. the tenant checks out on the local Stripe's page, pays, and gets its plan's quotas;
2. a payment failure puts it past_due, and its server still runs;
3. the grace period expires (the dunning schedule runs with an injected clock), and every
   server is suspended on the Wings simulator;
4. ``invoice.paid`` reactivates them all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import yaml

from tests import stripe_schema
from tests.e2e.conftest import ROOT, Stack

DAY = 86400

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def admin_headers(http: requests.Session, stack: Stack) -> dict[str, str]:
    stored = dict(
        line.split("=", 1) for line in (stack.local_dir / "admin.txt").read_text().splitlines() if "=" in line
    )
    login = http.post(
        f"{stack.api}/v1/auth/login", json={"email": stored["email"], "password": stored["password"]}, timeout=30
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def eventually(check: Callable[[], Any], timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.3)


def test_checkout_on_the_local_page_gives_the_plan_and_a_failed_payment_starts_the_grace_period(
    stack: Stack, http: requests.Session
) -> None:
    headers = admin_headers(http, stack)
    billing_url = f"{stack.api}/v1/tenants/tn_demo/billing"
    assert stack.info["stripe"], stack.log_tail()

    # When the tenant checks out the pro plan and presses Pay on the local page
    checkout = http.post(f"{billing_url}/checkout", json={"plan_id": "pro"}, headers=headers, timeout=30)
    assert checkout.status_code == 201, checkout.text
    url = checkout.json()["url"]
    assert url.startswith(stack.info["stripe"]) and "Pay" in http.get(url, timeout=10).text
    paid = http.post(f"{url}/pay", headers={"Accept": "application/json"}, timeout=30).json()

    # Then the signed events make the tenant "pro", with the plan's quotas
    def on_pro() -> dict[str, Any] | None:
        body: dict[str, Any] = http.get(billing_url, headers=headers, timeout=10).json()
        return body if body["plan"]["id"] == "pro" and body["status"] == "active" else None

    summary = eventually(on_pro)
    assert summary["quotas"]["servers"] == 5 and summary["billing_state"] == "active"

    # When a renewal payment fails
    failed = http.post(
        f"{stack.info['stripe']}/_standin/subscriptions/{paid['subscription']}/payment_failed", timeout=30
    )
    assert failed.status_code == 200, failed.text

    # Then the tenant is past_due in its grace period, and can still change things
    def past_due() -> dict[str, Any] | None:
        body: dict[str, Any] = http.get(billing_url, headers=headers, timeout=10).json()
        return body if body["status"] == "past_due" else None

    during = eventually(past_due)
    assert during["billing_state"] == "active" and during["grace_ends_at"] > time.time()
    renamed = http.patch(f"{stack.api}/v1/tenants/tn_demo", json={"name": "Demo"}, headers=headers, timeout=10)
    assert renamed.status_code == 200, renamed.text


def run_dunning(stack: Stack, now: int) -> dict[str, Any]:
    """The billing_dunning schedule's handler against the stack, with ``now`` as its clock
    (its own process, configured as the launcher configures the stack's functions)."""
    from local.aws import LocalNames

    env = {
        **os.environ,
        **LocalNames().environment(),
        "MAMBA_ENV": "local",
        "MAMBA_LOCAL_SECRETS_FILE": str(stack.local_dir / "secrets.env"),
        "MAMBA_PUBLIC_URL": stack.api,
        "AWS_ENDPOINT_URL": stack.aws,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "BILLING_ENABLED": "true",
        "STRIPE_API_BASE": stack.info["stripe"],
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
    }
    for variable in ("JWT_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        env.pop(variable, None)
    code = (
        "import json, sys; from functions.schedules import billing_dunning; "
        f"print(json.dumps(billing_dunning.handler({{'now': {now}}}, None)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_grace_expiry_suspends_every_server_on_the_simulator_and_invoice_paid_reactivates_them(
    stack: Stack, http: requests.Session
) -> None:
    headers = admin_headers(http, stack)
    tenant = f"{stack.api}/v1/tenants/tn_demo"
    (wings,) = stack.info["wings"]
    node_token = yaml.safe_load((stack.local_dir / "wings" / "config.yml").read_text())["token"]

    def on_node(uuid: str) -> dict[str, Any]:
        """The simulator's view of the server ({} while the node does not know it yet)."""
        found = http.get(f"{wings}/api/servers/{uuid}", headers={"Authorization": f"Bearer {node_token}"}, timeout=10)
        assert found.status_code in (200, 404), found.text
        body: dict[str, Any] = found.json() if found.status_code == 200 else {}
        return body

    def billing() -> dict[str, Any]:
        body: dict[str, Any] = http.get(f"{tenant}/billing", headers=headers, timeout=10).json()
        return body

    # Given the tenant on the pro plan, active (checked out and paid on the local page, or
    # brought back to active if the other test of this module left it past_due)
    def completed() -> str | None:
        events = http.get(f"{stack.info['stripe']}/_standin/events", timeout=10).json()["data"]
        done = [e["data"]["object"]["subscription"] for e in events if e["type"] == "checkout.session.completed"]
        return done[-1] if done else None

    if completed() is None:
        checkout = http.post(f"{tenant}/billing/checkout", json={"plan_id": "pro"}, headers=headers, timeout=30)
        assert checkout.status_code == 201, checkout.text
        http.post(f"{checkout.json()['url']}/pay", headers={"Accept": "application/json"}, timeout=30)
    subscription = completed()
    assert subscription
    if billing()["status"] != "active":
        http.post(f"{stack.info['stripe']}/_standin/subscriptions/{subscription}/pay", timeout=30)
    eventually(lambda: billing()["status"] == "active" and billing()["plan"]["id"] == "pro")
    # and two running servers on the seeded node's simulator
    uuids = []
    for n in range(2):
        created = http.post(
            f"{tenant}/servers",
            json={
                "name": f"billing-e2e-{n}",
                "blueprint_id": "bp_line_server",
                "limits": {"memory_mb": 256, "disk_mb": 512},
                "start_on_completion": True,
            },
            headers=headers,
            timeout=30,
        )
        assert created.status_code == 202, created.text
        uuids.append(created.json()["server"]["uuid"])
    for uuid in uuids:
        eventually(lambda u=uuid: on_node(u).get("state") == "running", timeout_s=180)

    # When a renewal payment fails: past_due, the servers still run
    http.post(f"{stack.info['stripe']}/_standin/subscriptions/{subscription}/payment_failed", timeout=30)
    since = eventually(lambda: billing()["past_due_since"] if billing()["status"] == "past_due" else None)
    assert billing()["billing_state"] == "active"
    assert all(on_node(u)["state"] == "running" for u in uuids)

    # When the grace period (3 days) has expired, by the dunning schedule's clock
    assert run_dunning(stack, since + 3 * DAY + 60)["suspended"] == 1

    # Then the tenant is suspended and every server is suspended and stopped on the simulator
    assert billing()["billing_state"] == "suspended"
    for uuid in uuids:
        eventually(lambda u=uuid: on_node(u)["is_suspended"] and on_node(u)["state"] == "offline", timeout_s=60)
    refused = http.patch(tenant, json={"name": "Demo"}, headers=headers, timeout=10)
    assert refused.status_code == 402, refused.text

    # When the invoice is paid
    http.post(f"{stack.info['stripe']}/_standin/subscriptions/{subscription}/pay", timeout=30)

    # Then every server is reactivated
    eventually(lambda: billing()["billing_state"] == "active")
    for uuid in uuids:
        eventually(lambda u=uuid: not on_node(u)["is_suspended"], timeout_s=60)
    assert http.patch(tenant, json={"name": "Demo"}, headers=headers, timeout=10).status_code == 200

    # And every body the local Stripe served or sent on the way has the pinned API's shape
    records = [json.loads(line) for line in (stack.local_dir / "stripe-records.jsonl").read_text().splitlines()]
    wrong = stripe_schema.recorded_problems(records)
    assert {r["body"]["type"] for r in records if r["source"] == "event"} >= {"invoice.paid", "invoice.payment_failed"}
    assert not wrong, stripe_schema.first_wrong(wrong, len(records))


def test_the_pricing_page_shows_the_seeded_plan_at_the_price_stripe_charges(stack: Stack) -> None:
    # Given the local stack, seeded with the Pro plan on a flat monthly Stripe price
    from local import billing_seed

    # When anyone reads the public plans (no credentials)
    plans = requests.get(f"{stack.api}/v1/plans", timeout=10)

    # Then Pro shows the flat fee the local Stripe charges, in its currency and interval
    assert plans.status_code == 200
    pro = next(plan for plan in plans.json()["items"] if plan["id"] == billing_seed.PLAN_ID)
    assert (pro["amount_cents"], pro["currency"], pro["interval"]) == (1500, "usd", "month")
