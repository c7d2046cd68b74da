"""Opaque list cursors: the position of a page, never a raw DynamoDB key.

A cursor encodes only the values needed to rebuild the exclusive start key of the
caller's own partition, so a forged cursor cannot reach another partition.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from mamba.domain.errors import ValidationError

MAX_LIMIT = 100
DEFAULT_LIMIT = 50


def encode(values: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, size: int) -> list[str]:
    """The ``size`` strings inside ``cursor``; ValidationError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values: Any = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise _bad() from exc
    if not isinstance(values, list) or len(values) != size or not all(isinstance(v, str) for v in values):
        raise _bad()
    return values


def _bad() -> ValidationError:
    return ValidationError("The cursor is not valid.", {"fields": [{"field": "cursor", "message": "not valid"}]})
