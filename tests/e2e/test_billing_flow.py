"""Billing on the whole local stack: the tenant checks out on the local Stripe's page, pays,
and gets its plan's quotas; a failed payment puts it past_due while it keeps running.

The suspension half of the issue's scenario (grace expiry suspends every server on the Wings
simulator; invoice.paid reactivates them) needs the servers-lifecycle task ``task_servers``
and the ``suspend_tenant`` / ``reactivate_tenant`` state machines deployed, which come with
the merge of the lifecycle branch (statemachines/pending/README.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack

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
