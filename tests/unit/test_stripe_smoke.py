"""``mamba stripe smoke`` without a network: the real stripe-python client and StripeGateway over
a fake HTTP layer (tests/stripe_http.py) that answers like a Stripe test account, including its
idempotency keys and its refusal of a cancel or update portal flow that names no subscription."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import pytest

from tests.stripe_http import RecordingHTTPClient, SentRequest
from tests.stripe_objects import price_object, subscription_object

KEY = "sk_test_smoke_unit"
SUBSCRIPTION_FLOWS = ("subscription_cancel", "subscription_update")


def refused(message: str, param: str) -> tuple[int, dict[str, Any]]:
    return 400, {
        "error": {"type": "invalid_request_error", "code": "parameter_missing", "message": message, "param": param}
    }


@dataclass
class FakeTestAccount:
    """Just enough of a Stripe test account for the smoke run, in the pinned shapes."""

    honour_idempotency: bool = True
    portal_refuses: str | None = None  # a flow the account's portal configuration does not allow
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    replies: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: count(1))

    def new(self, prefix: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("id", f"{prefix}_{next(self.ids)}")
        self.objects[obj["id"]] = obj
        return obj

    def __call__(self, req: SentRequest) -> tuple[int, dict[str, Any]]:
        key = req.headers.get("Idempotency-Key")
        if req.method == "POST" and key and self.honour_idempotency and key in self.replies:
            return self.replies[key]
        reply = self.answer(req)
        if req.method == "POST" and key:
            self.replies[key] = reply
        return reply

    def answer(self, req: SentRequest) -> tuple[int, dict[str, Any]]:
        f, path = req.form, req.path
        if (req.method, path) == ("POST", "/v1/billing/meters"):
            return 200, self.new("mtr", {"object": "billing.meter", "status": "active", "event_name": f["event_name"]})
        if (req.method, path) == ("POST", "/v1/products"):
            return 200, self.new("prod", {"object": "product", "active": True})
        if (req.method, path) == ("POST", "/v1/prices"):
            price = price_object(f"price_{next(self.ids)}", metered=f.get("recurring[usage_type]") == "metered")
            price["unit_amount"] = int(f["unit_amount"])
            price["recurring"]["meter"] = f.get("recurring[meter]")
            return 200, self.new("price", price)
        if (req.method, path) == ("POST", "/v1/customers"):
            return 200, self.new("cus", {"object": "customer", "metadata": {"tenant_id": f["metadata[tenant_id]"]}})
        if (req.method, path) == ("POST", "/v1/checkout/sessions"):
            mode = f["mode"]
            flat = self.objects.get(f.get("line_items[0][price]", ""), {})
            amount = int(f.get("line_items[0][price_data][unit_amount]") or flat.get("unit_amount") or 0)
            session = self.new(
                "cs_test",
                {
                    "object": "checkout.session",
                    "mode": mode,
                    "status": "open",
                    "payment_status": "unpaid",
                    "amount_total": amount,
                    "currency": "usd",
                    "customer": f["customer"],
                    "client_reference_id": f["client_reference_id"],
                    "metadata": {"purpose": f["metadata[purpose]"]} if "metadata[purpose]" in f else {},
                },
            )
            session["url"] = f"https://checkout.stripe.com/c/pay/{session['id']}"
            return 200, session
        if (req.method, path) == ("POST", "/v1/subscriptions"):
            prices = [f[k] for k in sorted(f) if re.fullmatch(r"items\[\d+\]\[price\]", k)]
            metered = tuple(p for p in prices if self.objects[p]["recurring"]["usage_type"] == "metered")
            flat = tuple(p for p in prices if p not in metered)
            sub_id = f"sub_{next(self.ids)}"
            sub = subscription_object(
                sub_id, f["customer"], "trialing", flat, f["metadata[tenant_id]"], metered=metered
            )
            return 200, self.new("sub", sub)
        if (req.method, path) == ("POST", "/v1/billing_portal/sessions"):
            flow = f.get("flow_data[type]")
            if flow in SUBSCRIPTION_FLOWS and f"flow_data[{flow}][subscription]" not in f:
                param = f"flow_data[{flow}][subscription]"
                return refused(f"Missing required param: {param}.", param)
            if flow is not None and flow == self.portal_refuses:
                return refused("This flow is not enabled in your portal configuration.", "flow_data[type]")
            url = f"https://billing.stripe.com/p/session/test_{next(self.ids)}"
            return 200, self.new("bps", {"object": "billing_portal.session", "url": url})
        if (req.method, path) == ("POST", "/v1/billing/meter_events"):
            payload = {k[len("payload[") : -1]: v for k, v in f.items() if k.startswith("payload[")}
            return 200, {
                "object": "billing.meter_event",
                "event_name": f["event_name"],
                "identifier": f["identifier"],
                "payload": payload,
                "timestamp": int(f["timestamp"]),
            }
        if match := re.fullmatch(r"/v1/customers/(\w+)/balance_transactions(?:/(\w+))?", path):
            if req.method == "GET":
                return 200, self.objects[match[2]]
            txn = {"object": "customer_balance_transaction", "amount": int(f["amount"]), "currency": f["currency"]}
            return 200, self.new("cbtxn", {**txn, "type": "adjustment", "customer": match[1]})
        if match := re.fullmatch(r"/v1/(?:customers|subscriptions|checkout/sessions)/(\w+)", path):
            if req.method == "DELETE":
                return 200, {"id": match[1], "object": "customer", "deleted": True}
            return (200, self.objects[match[1]]) if match[1] in self.objects else refused("No such object", "id")
        if req.method == "GET" and (match := re.fullmatch(r"/v1/prices/(\w+)", path)):
            return (200, self.objects[match[1]]) if match[1] in self.objects else refused("No such price", "id")
        if re.fullmatch(
            r"/v1/(prices|products)/\w+|/v1/checkout/sessions/\w+/expire|/v1/billing/meters/\w+/deactivate", path
        ):
            return 200, {"id": path.split("/")[-2 if path.endswith(("expire", "deactivate")) else -1]}
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})"}}


def smoke(account: FakeTestAccount) -> tuple[Any, RecordingHTTPClient, list[str]]:
    from mamba.adapters.stripe_smoke import run_smoke

    http, lines = RecordingHTTPClient(account), []
    result = run_smoke(KEY, log=lines.append, http_client=http, clock=lambda: 1_800_000_000)
    return result, http, lines


def calls(http: RecordingHTTPClient, pattern: str) -> list[SentRequest]:
    return [r for r in http.sent if re.fullmatch(pattern, f"{r.method} {r.path}")]


@pytest.mark.parametrize("key", ["sk_live_abc", "rk_test_abc", "pk_test_abc", "sk_test_", "whsec_abc", ""])
def test_anything_but_an_sk_test_key_is_refused_before_any_request(key):
    from mamba.adapters.stripe_smoke import SmokeRefused, run_smoke

    http = RecordingHTTPClient(FakeTestAccount())

    with pytest.raises(SmokeRefused) as caught:
        run_smoke(key, log=lambda _line: None, http_client=http)

    assert http.sent == []
    assert "abc" not in str(caught.value)  # the key itself is never echoed


def test_a_full_run_checks_every_answer_and_cleans_up():
    account = FakeTestAccount()

    result, http, lines = smoke(account)

    assert result.ok, lines
    assert result.passed == [
        "catalogue",
        "customer",
        "checkout (subscription)",
        "checkout (payment)",
        "subscription",
        "portal shortcuts",
        "meter event",
        "balance credit",
    ]
    modes = [r.form["mode"] for r in calls(http, r"POST /v1/checkout/sessions")]
    assert modes == ["subscription", "payment"]
    portals = [r.form for r in calls(http, r"POST /v1/billing_portal/sessions")]
    assert [p.get("flow_data[type]") for p in portals] == [None, "payment_method_update", *SUBSCRIPTION_FLOWS]
    sub_id = next(o["id"] for o in account.objects.values() if o.get("object") == "subscription")
    assert [
        p.get(f"flow_data[{f}][subscription]") for p in portals[2:] for f in SUBSCRIPTION_FLOWS if f in p.values()
    ] == [
        sub_id,
        sub_id,
    ]
    # the same idempotency key twice: one customer, one credit (Stripe's answer replayed)
    assert sum(o.get("object") == "customer" for o in account.objects.values()) == 1
    assert sum(o.get("object") == "customer_balance_transaction" for o in account.objects.values()) == 1
    assert len(calls(http, r"POST /v1/billing/meter_events")) == 1
    assert len(calls(http, r"GET /v1/prices/\w+")) == 2  # both prices read as the plan check reads them
    # cleanup: both sessions expired, the customer deleted, prices and product archived, meter off
    assert len(calls(http, r"POST /v1/checkout/sessions/\w+/expire")) == 2
    assert len(calls(http, r"DELETE /v1/customers/\w+")) == 1
    archived = calls(http, r"POST /v1/(prices|products)/\w+")
    assert len(archived) == 3 and all(r.form == {"active": "false"} for r in archived)
    assert len(calls(http, r"POST /v1/billing/meters/\w+/deactivate")) == 1
    assert lines[-1].startswith("clean deactivate mtr_")


def test_a_wrong_answer_stops_the_run_at_its_step_and_still_cleans_up():
    result, http, _lines = smoke(FakeTestAccount(honour_idempotency=False))

    assert result.passed == ["catalogue"]
    assert result.failed is not None and result.failed.startswith(
        "customer: the same idempotency key gave one customer"
    )
    assert not result.ok
    assert calls(http, r"POST /v1/checkout/sessions") == []
    assert len(calls(http, r"DELETE /v1/customers/\w+")) == 1
    assert len(calls(http, r"POST /v1/billing/meters/\w+/deactivate")) == 1


def test_a_stripe_refusal_names_the_step_and_stripes_message():
    result, _http, _lines = smoke(FakeTestAccount(portal_refuses="subscription_update"))

    assert result.passed[-1] == "subscription"
    assert result.failed == (
        "portal shortcuts: InvalidRequestError 400: This flow is not enabled in your portal configuration."
    )


def test_cleanup_that_fails_is_named(monkeypatch):
    account = FakeTestAccount()
    answer: Callable[[SentRequest], tuple[int, dict[str, Any]]] = account.answer

    def no_deletes(req: SentRequest) -> tuple[int, dict[str, Any]]:
        return refused("No such customer", "id") if req.method == "DELETE" else answer(req)

    monkeypatch.setattr(account, "answer", no_deletes)
    result, _http, lines = smoke(account)

    assert result.failed is None and not result.ok
    assert len(result.left_behind) == 1 and result.left_behind[0].startswith("delete cus_")
    assert any(line.startswith("LEFT  delete cus_") for line in lines)


# --- the command line ------------------------------------------------------------------------


def test_the_command_refuses_a_live_key_and_a_missing_key(monkeypatch, capsys):
    import io

    from mamba.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("sk_live_secretvalue\n"))
    assert main(["stripe", "smoke"]) == 1
    err = capsys.readouterr().err
    assert "refusing sk_live_ key" in err and "secretvalue" not in err

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["stripe", "smoke"]) == 1
    assert "no key on stdin" in capsys.readouterr().err


def test_the_command_reads_the_key_from_stdin_and_reports(monkeypatch, capsys):
    import io

    from mamba.adapters import stripe_smoke
    from mamba.cli import main

    seen: list[str] = []

    def fake_run(key: str, *, log: Callable[[str], None]) -> stripe_smoke.SmokeResult:
        seen.append(key)
        log("ok    catalogue: fake")
        return stripe_smoke.SmokeResult(passed=["catalogue"])

    monkeypatch.setattr(stripe_smoke, "run_smoke", fake_run)
    monkeypatch.setattr("sys.stdin", io.StringIO("sk_test_from_stdin\n"))

    assert main(["stripe", "smoke"]) == 0
    assert seen == ["sk_test_from_stdin"]
    assert capsys.readouterr().out.splitlines()[-1] == "stripe smoke passed: 1 checks"


def test_the_command_fails_when_a_check_fails(monkeypatch, capsys):
    import io

    from mamba.adapters import stripe_smoke
    from mamba.cli import main

    def failing_run(key: str, *, log: Callable[[str], None]) -> stripe_smoke.SmokeResult:
        return stripe_smoke.SmokeResult(
            passed=["catalogue"], failed="customer: two customers", left_behind=["delete cus_1"]
        )

    monkeypatch.setattr(stripe_smoke, "run_smoke", failing_run)
    monkeypatch.setattr("sys.stdin", io.StringIO("sk_test_x\n"))

    assert main(["stripe", "smoke"]) == 1
    captured = capsys.readouterr()
    assert "left behind (remove by hand in the Stripe dashboard): delete cus_1" in captured.out
    assert captured.err.strip() == "mamba stripe: error: customer: two customers"
