"""The activity batch a node posts (wings-contract.md §5.10), parsed: standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mamba.domain.errors import ValidationError

MAX_ACTIVITY_ENTRIES = 100


@dataclass(frozen=True)
class ActivityIn:
    server_uuid: str
    event: str
    timestamp: str
    metadata: dict[str, Any]
    user_id: str | None
    ip: str | None


def parse_activity(body: Any) -> list[ActivityIn]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ValidationError("The body must be {data: [...]}.")
    if len(body["data"]) > MAX_ACTIVITY_ENTRIES:
        raise ValidationError(f"At most {MAX_ACTIVITY_ENTRIES} entries per call.")
    found: list[ActivityIn] = []
    for raw in body["data"]:
        if not isinstance(raw, dict):
            raise ValidationError("Each activity entry must be an object.")
        server, event, timestamp = raw.get("server"), raw.get("event"), raw.get("timestamp")
        if not isinstance(server, str) or not isinstance(event, str) or not isinstance(timestamp, str):
            raise ValidationError("Each activity entry needs server, event and timestamp strings.")
        metadata = raw.get("metadata")
        user = raw.get("user")
        ip = raw.get("ip")
        found.append(
            ActivityIn(
                server_uuid=server,
                event=event,
                timestamp=timestamp,
                metadata=metadata if isinstance(metadata, dict) else {},
                user_id=user if isinstance(user, str) and user else None,
                ip=ip if isinstance(ip, str) and ip else None,
            )
        )
    return found
