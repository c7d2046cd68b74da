"""The only Logger, Metrics and Tracer.

Logs are structured JSON (Powertools Logger). Every formatted record passes through
``RedactingFormatter``, which replaces any configured secret value with ``***`` whatever
field it ended up in (message, extra keys or a traceback), so a careless log call cannot
leak a secret. The Tracer is opt-in (``MAMBA_TRACING=true``) because the X-Ray SDK costs
hundreds of milliseconds of cold start.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "mamba"
REDACTED = "***"


class RedactingFormatter(LambdaPowertoolsFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.secrets: tuple[str, ...] = ()

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            if secret and secret in text:
                text = text.replace(secret, REDACTED)
        return text


_formatter = RedactingFormatter()
logger = Logger(service=SERVICE, logger_formatter=_formatter)


def register_secrets(values: tuple[str, ...]) -> None:
    """Tell the formatter which values must never be printed. Longest first, so a secret
    that contains another is masked whole."""
    _formatter.secrets = tuple(sorted({v for v in values if v}, key=len, reverse=True))


@functools.cache
def metrics() -> Any:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="Mamba", service=SERVICE)


@functools.cache
def tracer() -> Any:
    """The Tracer, created on first use; callers only ask for it when tracing is enabled."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)
