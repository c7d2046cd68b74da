"""``POST /webhooks/stripe``: Stripe's signed events (public: the signature is the credential).

The signature is checked over the raw bytes (Chalice decodes API Gateway's base64 body in
``raw_body``; ``json_body`` is never used), then the event is claimed and queued
(mamba.services.billing_sync.receive). Answers 400 for a bad, stale or missing signature.
"""

from chalice.app import Blueprint

from mamba import bootstrap
from mamba.web import PUBLIC, Ctx, route

bp = Blueprint(__name__)


@route(
    bp,
    "/webhooks/stripe",
    "POST",
    permission=PUBLIC,
    summary="Stripe webhook endpoint (verified by its Stripe-Signature header)",
    tags=("billing",),
    response_model="billing:WebhookAck",
    billing=True,
)
def stripe_webhook(ctx: Ctx) -> object:
    from mamba.services import billing_sync  # billing code (and stripe) only on this path

    settings = bootstrap.settings()
    raw = ctx.request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    result = billing_sync.receive(
        raw,
        ctx.request.headers.get("stripe-signature"),
        secrets=settings.stripe_webhook_secrets,
        livemode=settings.stripe_livemode,
        repo=bootstrap.billing_repository(),
        enqueue=bootstrap.stripe_event_queue(),
        verify=bootstrap.stripe_webhook_verifier(),
    )
    return result
