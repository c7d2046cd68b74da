"""One page of a list: its items and the opaque cursor of the next page (None on the last).

The cursor is made and checked by the adapter that ran the query
(``mamba.adapters.dynamo.pagination``); services and doors only pass it along.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mamba.domain.errors import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 2048


@dataclass(frozen=True)
class Page[T]:
    items: list[T] = field(default_factory=list)
    next_cursor: str | None = None


@dataclass(frozen=True)
class PageRequest:
    """``?limit=&cursor=`` of a list request, checked."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    @classmethod
    def from_query(
        cls, query: dict[str, str], *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT
    ) -> PageRequest:
        """Raises ValidationError naming ``limit`` (not 1..maximum) or ``cursor`` (too long)."""
        raw = (query.get("limit") or "").strip()
        if raw:
            if not raw.isdigit() or not 1 <= int(raw) <= maximum:
                raise ValidationError(
                    f"limit must be a whole number from 1 to {maximum}.",
                    {"fields": [{"field": "limit", "message": f"must be 1 to {maximum}", "type": "limit"}]},
                )
            limit = int(raw)
        else:
            limit = default
        cursor = query.get("cursor") or None
        if cursor is not None and len(cursor) > MAX_CURSOR_LENGTH:
            raise ValidationError(
                "The cursor is not valid.", {"fields": [{"field": "cursor", "message": "not valid", "type": "cursor"}]}
            )
        return cls(limit=limit, cursor=cursor)
