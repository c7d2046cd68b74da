"""Time and ids, injectable so services and tests agree on 'now'."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def now_epoch() -> int:
    return int(time.time())


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_id(prefix: str) -> str:
    """A short, URL-safe, prefixed id such as ``op_3fK9...``."""
    return f"{prefix}_{secrets.token_urlsafe(12).replace('-', 'x').replace('_', 'y')}"
