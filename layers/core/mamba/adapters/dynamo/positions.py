"""List positions for the API-key and audit listings: an opaque cursor that holds only
the sort-key values of the last item, never a DynamoDB key.

The adapter rebuilds the exclusive start key from these values *inside the partition of
the verified caller* (their user id or tenant id), so a forged cursor can at worst move
within the caller's own list; it cannot reach another partition. A malformed cursor is a
400 ``VALIDATION_ERROR``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from mamba.domain.errors import ValidationError

MAX_LIMIT = 100


def encode(values: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str | None, size: int) -> list[str] | None:
    """The ``size`` strings inside ``cursor`` (None for no cursor). Raises ValidationError."""
    if not cursor:
        return None
    try:
        values: Any = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise _bad() from exc
    if not isinstance(values, list) or len(values) != size or not all(isinstance(v, str) and v for v in values):
        raise _bad()
    return values


def _bad() -> ValidationError:
    return ValidationError(
        "The cursor is not valid.", {"fields": [{"field": "cursor", "message": "not valid", "type": "cursor"}]}
    )


def first_page(results: Any) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The raw items and LastEvaluatedKey of exactly one Query call of a pynamodb result
    iterator (iterating it would fetch more pages to fill a filtered page)."""
    page = next(results.page_iter, None)
    if page is None:
        return [], None
    return list(page.get("Items") or []), results.page_iter.last_evaluated_key
