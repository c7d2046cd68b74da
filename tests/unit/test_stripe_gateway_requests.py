"""What ``StripeGateway`` sends: the real stripe-python client over a recording HTTP layer
(tests/stripe_http.py), so each assertion reads the form body Stripe would receive."""

from __future__ import annotations

import pytest

from tests.stripe_http import RecordingHTTPClient, SentRequest


def portal_answer(request: SentRequest) -> tuple[int, dict[str, object]]:
    return 200, {"id": "bps_1", "object": "billing_portal.session", "url": "https://billing.stripe.com/p/session/x"}


def gateway(http: RecordingHTTPClient):
    from mamba.adapters.stripe_client import StripeGateway

    return StripeGateway("sk_test_unit", http_client=http, max_network_retries=0)


@pytest.mark.parametrize("flow", ["subscription_cancel", "subscription_update"])
def test_the_cancel_and_update_shortcuts_name_the_subscription(flow):
    http = RecordingHTTPClient(portal_answer)

    url = gateway(http).create_portal_session("cus_1", "https://panel.example/back", flow, "sub_1")

    assert url == "https://billing.stripe.com/p/session/x"
    (sent,) = http.sent
    assert (sent.method, sent.path) == ("POST", "/v1/billing_portal/sessions")
    assert sent.form == {
        "customer": "cus_1",
        "return_url": "https://panel.example/back",
        "flow_data[type]": flow,
        f"flow_data[{flow}][subscription]": "sub_1",
    }


def test_the_payment_method_shortcut_and_the_plain_portal_name_no_subscription():
    http = RecordingHTTPClient(portal_answer)
    stripe = gateway(http)

    stripe.create_portal_session("cus_1", "https://panel.example/back", "payment_method_update", "sub_1")
    stripe.create_portal_session("cus_1", "https://panel.example/back")

    assert http.sent[0].form == {
        "customer": "cus_1",
        "return_url": "https://panel.example/back",
        "flow_data[type]": "payment_method_update",
    }
    assert http.sent[1].form == {"customer": "cus_1", "return_url": "https://panel.example/back"}


def test_a_subscription_shortcut_without_a_subscription_is_refused_before_stripe():
    from mamba.domain.errors import ConflictError

    http = RecordingHTTPClient(portal_answer)

    with pytest.raises(ConflictError):
        gateway(http).create_portal_session("cus_1", "https://panel.example/back", "subscription_cancel")

    assert http.sent == []
