"""Opaque, tamper-proof list cursors over DynamoDB's ``LastEvaluatedKey``.

A cursor is ``base64url(JSON of the key) "." base64url(HMAC-SHA256)``. The MAC covers a
*scope* too: the listing that made the cursor (``"members:tn_a"``, ``"admin.users"``).
So a client can neither forge a start key (to begin inside another tenant's partition)
nor replay one listing's cursor on another; either answers 400 ``VALIDATION_ERROR``.
The key is derived from the panel's signing secret with its own label, so a cursor MAC
can never be mistaken for a token signature.

Use ``query_page`` for one Query per page::

    items, cursor = query_page(codec, MembershipItem.query, pk, MembershipItem.sk.startswith("MEMBER#"),
                               scope=f"members:{tenant_id}", page=page)

It asks DynamoDB for ``limit + 1`` items and returns ``limit``: when the extra one
exists, pynamodb rebuilds the key of the last returned item, and when it does not,
``next_cursor`` is None, so a client never fetches an empty last page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from mamba.domain.errors import ValidationError
from mamba.domain.pages import PageRequest

_LABEL = b"mamba/list-cursor/v1"
_MAC_BYTES = 16
_KEY_TYPES = frozenset({"S", "N", "B"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def invalid_cursor() -> ValidationError:
    return ValidationError(
        "The cursor is not valid.", {"fields": [{"field": "cursor", "message": "not valid", "type": "cursor"}]}
    )


class CursorCodec:
    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        self._key = hmac.new(raw, _LABEL, hashlib.sha256).digest()

    def _mac(self, scope: str, payload: str) -> bytes:
        message = scope.encode() + b"\x00" + payload.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, last_key: dict[str, Any] | None, scope: str) -> str | None:
        """The cursor of the next page, or None when ``last_key`` is None (the last page)."""
        if not last_key:
            return None
        payload = _b64(json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{_b64(self._mac(scope, payload))}"

    def decode(self, cursor: str | None, scope: str) -> dict[str, Any] | None:
        """The start key inside ``cursor`` (None for no cursor). Raises ValidationError when the
        cursor is malformed, was altered, or belongs to another listing."""
        if not cursor:
            return None
        payload, dot, mac = cursor.partition(".")
        if not dot or not payload or not mac:
            raise invalid_cursor()
        try:
            given = _unb64(mac)
        except (binascii.Error, ValueError) as exc:
            raise invalid_cursor() from exc
        # Constant-time: the comparison must not tell an attacker how much of a MAC is right.
        if not hmac.compare_digest(given, self._mac(scope, payload)):
            raise invalid_cursor()
        try:
            key = json.loads(_unb64(payload))
        except (binascii.Error, ValueError) as exc:
            raise invalid_cursor() from exc
        if not _is_key(key):
            raise invalid_cursor()
        return dict(key)


def _is_key(value: Any) -> bool:
    """A DynamoDB key map: {"attr": {"S"|"N"|"B": "..."}, ...}."""
    return (
        isinstance(value, dict)
        and bool(value)
        and all(
            isinstance(name, str)
            and isinstance(typed, dict)
            and len(typed) == 1
            and next(iter(typed)) in _KEY_TYPES
            and isinstance(next(iter(typed.values())), str)
            for name, typed in value.items()
        )
    )


def query_page(
    codec: CursorCodec,
    query: Callable[..., Any],
    *args: Any,
    scope: str,
    page: PageRequest,
    **kwargs: Any,
) -> tuple[list[Any], str | None]:
    """Run one Query (``Model.query`` or ``Index.query``) for one page; (items, next cursor)."""
    start = codec.decode(page.cursor, scope)
    results = query(*args, limit=page.limit, page_size=page.limit + 1, last_evaluated_key=start, **kwargs)
    items = list(results)
    return items, codec.encode(results.last_evaluated_key, scope)
