"""The only Logger, Metrics and Tracer, and the correlation id of the current request.

Logs are structured JSON (Powertools Logger). Every formatted record passes through
``RedactingFormatter``, which

* adds the keys of the current log context (``request_id``, and ``tenant_id``,
  ``server_id`` or ``operation_id`` once a door knows them) to every line, from a
  ``ContextVar``, so concurrent requests on ``chalice local``'s threads never mix ids;
* replaces every registered secret value with ``***`` in the finished line, whatever field
  it ended up in (message, extra keys or a traceback), so a careless log call cannot leak
  a secret.

The Tracer is opt-in (``MAMBA_TRACING=true``) because the X-Ray SDK costs hundreds of
milliseconds of cold start: nothing here imports it until ``traced`` finds tracing enabled.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import logging
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

if TYPE_CHECKING:
    from mamba.config import Settings

SERVICE = "mamba"
REDACTED = "***"
CONTEXT_KEYS = ("request_id", "tenant_id", "server_id", "operation_id")

_log_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("mamba_log_context", default={})  # noqa: B039


class RedactingFormatter(LambdaPowertoolsFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.secrets: tuple[str, ...] = ()

    def format(self, record: logging.LogRecord) -> str:
        for key, value in _log_context.get().items():
            # Powertools emits record attributes it does not reserve as keys; an explicit
            # ``extra=`` of the same name wins over the context.
            if not hasattr(record, key):
                setattr(record, key, value)
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


def _spellings(value: str) -> set[str]:
    """The value as it may appear in a JSON line: raw, and escaped (quotes, backslashes,
    control characters, and non-ASCII when a serializer escapes it)."""
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is at the time of the write, or to ``redirect``.

    Chalice names its app logger after the app ("mamba", the same logger as ours) and, at
    ``Chalice(...)``, adds a plain-text handler, sets the level to ERROR and stops
    propagation unless it finds a StreamHandler whose stream ``== sys.stdout``. A handler
    bound to the stdout of import time fails that check wherever stdout was swapped since
    (pytest does), which would silence INFO and print unredacted copies. Following the
    current stdout keeps the check true and the logs JSON and redacted.
    """

    redirect: Any = None  # tests point this at a buffer

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:
        return self.redirect if self.redirect is not None else sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:
        self.redirect = None if value is sys.stdout else value


_formatter = RedactingFormatter()
logger = Logger(service=SERVICE, logger_formatter=_formatter, logger_handler=StdoutHandler())
# Our records go to our (redacting, JSON) handler only. Propagating them would also print
# them through whatever plain handler a host process put on the root logger (the Chalice
# CLI does), unredacted.
logger._logger.propagate = False


def register_secrets(values: tuple[str, ...]) -> None:
    """Tell the formatter which values must never be printed. Longest first, so a secret
    that contains another is masked whole."""
    spelled = {s for v in values if v for s in _spellings(v)}
    _formatter.secrets = tuple(sorted(spelled, key=len, reverse=True))


def configure(settings: Settings) -> None:
    """Apply the parsed Settings: the log level (``LOG_LEVEL``) and the values to mask.
    The composition root calls this once, right after parsing."""
    logger.setLevel(settings.log_level)
    register_secrets(settings.secret_values())


def current_request_id() -> str:
    return _log_context.get().get("request_id", "")


@contextlib.contextmanager
def request_context(request_id: str) -> Iterator[None]:
    """Start a fresh log context for one request: every line logged inside carries ``request_id``."""
    token = _log_context.set({"request_id": request_id})
    try:
        yield
    finally:
        _log_context.reset(token)


def append_context(**keys: str | None) -> None:
    """Add ``tenant_id``, ``server_id`` or ``operation_id`` to the current context's log lines."""
    unknown = set(keys) - set(CONTEXT_KEYS)
    if unknown:
        raise ValueError(f"unknown log context keys: {sorted(unknown)}")
    current = dict(_log_context.get())
    current.update({k: v for k, v in keys.items() if v})
    _log_context.set(current)


@functools.cache
def metrics() -> Any:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="Mamba", service=SERVICE)


@functools.cache
def tracer() -> Any:
    """The Tracer, created on first use; only ``traced`` asks for it, and only when tracing is on."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def traced[F: Callable[..., Any]](fn: F) -> F:
    """Opt-in X-Ray for one function: wraps ``fn`` with the Tracer on its first call when
    ``MAMBA_TRACING`` is on, and is a plain pass-through (no X-Ray import) otherwise."""
    chosen: list[Callable[..., Any]] = []

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not chosen:
            from mamba.config import get_settings

            chosen.append(tracer().capture_method(fn) if get_settings().tracing_enabled else fn)
        return chosen[0](*args, **kwargs)

    return wrapper  # type: ignore[return-value]
