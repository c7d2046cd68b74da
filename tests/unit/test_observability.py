"""Structured logs: JSON lines carrying the request context, with every secret masked."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator

import pytest

from mamba import bootstrap, observability
from mamba.observability import REDACTED, logger


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """The real handler and formatter, writing into a buffer; secrets list restored after."""
    handler = logger.registered_handler
    buffer = io.StringIO()
    handler.redirect = buffer
    previous_secrets = observability._formatter.secrets
    try:
        yield buffer
    finally:
        handler.redirect = None
        observability._formatter.secrets = previous_secrets


def _lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_jwt_secret_is_masked_when_logged_in_message_extra_keys_and_exception(log_output):
    secret = bootstrap.settings().jwt_secret  # registers the process secrets, as app.py does at import

    logger.info(f"signing with {secret}", extra={"jwt_secret": secret, "nested": {"key": [secret]}})
    try:
        raise RuntimeError(f"bad token secret {secret}")
    except RuntimeError:
        logger.exception("verification failed")

    text = log_output.getvalue()
    assert secret not in text
    assert REDACTED in text
    first, second = _lines(log_output)
    assert first["message"] == f"signing with {REDACTED}"
    assert first["jwt_secret"] == REDACTED and first["nested"] == {"key": [REDACTED]}
    assert f"bad token secret {REDACTED}" in second["exception"]


@pytest.mark.parametrize(
    "secret",
    ['quote"and\\backslash' + "x" * 24, "ünïcødé-sècret-" + "y" * 24, "tab\tand\nnewline-" + "z" * 24],
)
def test_secret_is_masked_when_json_escapes_it(log_output, secret):
    observability.register_secrets((secret,))

    logger.warning("value", extra={"v": secret})
    logger.warning(secret)

    assert all(line["v"] == REDACTED for line in _lines(log_output)[:1])
    assert _lines(log_output)[1]["message"] == REDACTED


def test_longer_secret_is_masked_whole_when_it_contains_a_shorter_one(log_output):
    short, long_ = "s" * 8 + "ecret-part-one-xxxxxxxxxxxxxxx", None
    long_ = short + "-and-more-of-it"
    observability.register_secrets((short, long_))

    logger.info(long_)

    assert _lines(log_output)[0]["message"] == REDACTED


def test_every_line_carries_request_id_when_logged_inside_a_request(log_output):
    logger.info("before")
    with observability.request_context("req-abcdef12"):
        logger.info("during")
        observability.append_context(tenant_id="t_1", operation_id=None)
        logger.info("with tenant", extra={"request_id": "explicit-wins"})
    logger.info("after")

    before, during, with_tenant, after = _lines(log_output)
    assert "request_id" not in before and "request_id" not in after
    assert during["request_id"] == "req-abcdef12"
    assert with_tenant["tenant_id"] == "t_1" and "operation_id" not in with_tenant
    assert with_tenant["request_id"] == "explicit-wins"
    assert observability.current_request_id() == ""


def test_request_ids_never_mix_when_requests_log_on_threads(log_output):
    def serve(request_id: str) -> None:
        with observability.request_context(request_id):
            for n in range(50):
                logger.info("tick", extra={"expected": request_id, "n": n})

    threads = [threading.Thread(target=serve, args=(f"req-thread-{i:04d}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    lines = _lines(log_output)
    assert len(lines) == 200
    assert all(line["request_id"] == line["expected"] for line in lines)


def test_append_context_refuses_unknown_keys():
    with pytest.raises(ValueError, match="password"):
        observability.append_context(password="x")


def test_traced_is_a_pass_through_when_tracing_is_off(monkeypatch):
    def no_tracer():
        raise AssertionError("the Tracer must not be built when tracing is off")

    monkeypatch.setattr(observability, "tracer", no_tracer)

    @observability.traced
    def add(a, b):
        return a + b

    assert add(2, 3) == 5
    assert add.__name__ == "add"


def test_traced_wraps_with_tracer_when_tracing_is_on(monkeypatch):
    from mamba import config

    captured = []

    class FakeTracer:
        def capture_method(self, fn):
            captured.append(fn.__name__)
            return lambda *a, **k: ("traced", fn(*a, **k))

    on = config.get_settings().model_copy(update={"tracing_enabled": True})
    monkeypatch.setattr(config, "get_settings", lambda: on)
    monkeypatch.setattr(observability, "tracer", FakeTracer)

    @observability.traced
    def handler(event):
        return event

    assert handler(1) == ("traced", 1)
    assert handler(2) == ("traced", 2)
    assert captured == ["handler"], "the tracer wraps once, on first call"


def test_chalice_app_of_the_same_name_leaves_our_logger_alone_when_stdout_was_swapped(monkeypatch):
    from chalice import Chalice

    inner = logger._logger
    before = (list(inner.handlers), inner.level, inner.propagate)
    swapped = io.StringIO()
    monkeypatch.setattr("sys.stdout", swapped)  # what pytest, or any redirect, does after import
    try:
        Chalice(app_name="mamba")  # app.py's app: its logger is ours

        assert (list(inner.handlers), inner.level, inner.propagate) == before
        logger.info("still structured")
        assert json.loads(swapped.getvalue())["message"] == "still structured"
    finally:
        inner.handlers[:] = before[0]
        inner.setLevel(before[1])
        inner.propagate = before[2]


def test_configure_applies_log_level_and_masks_every_secret(log_output):
    from mamba import config

    settings = config.load_settings(
        {
            "MAMBA_ENV": "test",
            "MAMBA_LOCAL_SECRETS_FILE": "/nonexistent",
            "LOG_LEVEL": "WARNING",
            "JWT_SECRET": "Jq8vT2mZr5Lw9Xc3Nb7Hk1Pd6Ys4Gf0Ae",
            "BILLING_ENABLED": "true",
            "STRIPE_SECRET_KEY": "sk_test_R7uK2pW9mQ4zX1cV8bN3hJ6fD5sA0gLe",
            "STRIPE_WEBHOOK_SECRET": "whsec_T4yU7iO1pA9sD3fG6hJ2kL8zX5cV0bNm",
        }
    )
    level = logger.log_level
    try:
        observability.configure(settings)
        logger.info("hidden at WARNING")
        logger.warning("keys " + " ".join(settings.secret_values()))
    finally:
        logger.setLevel(level)

    [line] = _lines(log_output)
    assert line["message"] == "keys *** *** ***"


def test_records_do_not_reach_root_handlers_when_a_host_configured_root_logging():
    # Given a host process (the Chalice CLI does this) with a plain handler on the root logger
    import io
    import logging

    from mamba.observability import logger

    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    logging.getLogger().addHandler(handler)
    try:
        # When the panel logs
        logger.info("only-in-our-json-handler")
    finally:
        logging.getLogger().removeHandler(handler)
    # Then the plain root handler never sees it (it would print it unredacted)
    assert "only-in-our-json-handler" not in captured.getvalue()
