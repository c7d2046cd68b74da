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
milliseconds of cold start: nothing here imports it until ``traced`` (or an invocation, see
below) finds tracing enabled.

**Correlation.** An HTTP request's id (``web.http_middleware``: the caller's ``X-Request-Id``
or API Gateway's) is the ``correlation_id`` of every workflow it starts (the SFN adapter puts
it into the execution input, ``infra/workflows.py`` hands it to every task). ``invocation``
opens the same log context for a task, a schedule or a queue consumer, so the task's log lines
and the ``X-Request-Id`` of its Wings calls carry the id of the request that started it.

**Operator metrics** go out as CloudWatch embedded metric format (Powertools) in one
namespace, ``Mamba``, through ``emit_metric``. Its dimensions come from ``DIMENSIONS`` only:
never a tenant, server, user or operation id, because each distinct dimension value is a
separate paid CloudWatch metric (docs/observability.md lists every metric).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

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


NAMESPACE = "Mamba"

# The only dimension names a metric may carry. Each is a small, bounded set of values (a
# workflow name, an outcome, an error code, a node id of the fleet, a Stripe event type).
DIMENSIONS = frozenset({"workflow", "outcome", "error", "node", "reason", "event_type", "function"})

Unit = Literal["Count", "Milliseconds", "Seconds"]


@functools.cache
def metrics() -> Any:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace=NAMESPACE, service=SERVICE)


def emit_metric(name: str, value: float, unit: Unit = "Count", **dimensions: str) -> None:
    """Publish one metric now, as one EMF line on stdout (CloudWatch Logs turns it into a metric).

    Raises ValueError for a dimension outside ``DIMENSIONS`` (a tenant or server id would make
    a metric per tenant). Anything else going wrong is logged and swallowed: a metric is never
    worth failing the request or the workflow step that measured it.
    """
    unknown = set(dimensions) - DIMENSIONS
    if unknown:
        raise ValueError(f"metric {name}: dimensions {sorted(unknown)} are not allowed (see observability.DIMENSIONS)")
    try:
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(
            name=name, unit=MetricUnit[unit], value=value, namespace=NAMESPACE, default_dimensions={"service": SERVICE}
        ) as metric:
            for key, dim_value in sorted(dimensions.items()):
                metric.add_dimension(name=key, value=str(dim_value) or "none")
    except Exception:  # a metric never fails the caller (see the docstring)
        logger.warning("metric not published", extra={"metric": name}, exc_info=True)


@contextlib.contextmanager
def timed(name: str, **dimensions: str) -> Iterator[dict[str, str]]:
    """Publish how long the block took, in milliseconds, under ``name``. The block may add or
    change dimensions through the dict it receives (an outcome known only at the end)."""
    started = time.monotonic()
    dims = dict(dimensions)
    try:
        yield dims
    finally:
        emit_metric(name, round((time.monotonic() - started) * 1000, 3), "Milliseconds", **dims)


def _invocation_ids(event: Any, context: Any) -> tuple[str, dict[str, str | None]]:
    body = event if isinstance(event, dict) else {}
    correlation = body.get("correlation_id")
    if not isinstance(correlation, str) or not correlation:
        correlation = getattr(context, "aws_request_id", None) or f"inv-{uuid.uuid4()}"
    keys = {
        "operation_id": body.get("operation_id"),
        "tenant_id": body.get("tenant_id"),
        "server_id": body.get("server_uuid") or body.get("server_id"),
    }
    return str(correlation), {k: v for k, v in keys.items() if isinstance(v, str)}


@contextlib.contextmanager
def invocation(event: Any, context: Any = None) -> Iterator[None]:
    """The log context of one non-HTTP invocation (a workflow task, a schedule, a queue batch):
    ``request_id`` is the workflow's ``correlation_id`` when the event carries one, else the
    Lambda request id; ``operation_id``, ``tenant_id`` and ``server_id`` come from the event."""
    correlation, keys = _invocation_ids(event, context)
    what = {"action": event.get("action")} if isinstance(event, dict) and event.get("action") else {}
    started = time.perf_counter()
    with request_context(correlation):
        append_context(**keys)
        try:
            yield
        except Exception as exc:
            # The workflow's Retry/Catch decides what happens next; this line says where and why.
            logger.warning(
                "invocation failed", extra={**what, "error_type": type(exc).__name__, "duration_ms": _ms(started)}
            )
            raise
        logger.info("invocation", extra={**what, "duration_ms": _ms(started)})


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _tracing_enabled() -> bool:
    from mamba.config import get_settings

    return get_settings().tracing_enabled


def lambda_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for every non-HTTP function (tasks, schedules, the queue consumer):
    the invocation's log context, and the Tracer around the handler when tracing is on."""
    raw = event.to_dict() if hasattr(event, "to_dict") else event
    with invocation(raw, getattr(event, "context", None)):
        if not _tracing_enabled():
            return get_response(event)
        handler = tracer().capture_lambda_handler(lambda _event, _context: get_response(event))
        return handler(raw, getattr(event, "context", None))


def http_tracing_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for the API function: a Tracer subsegment per request when tracing is
    on, annotated with the request id so a trace is found from a log line; a plain call otherwise."""
    if not _tracing_enabled():
        return get_response(event)
    with tracer().provider.in_subsegment(f"## {getattr(event, 'method', 'HTTP')} {getattr(event, 'path', '')}") as seg:
        seg.put_annotation("request_id", current_request_id())
        return get_response(event)


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
