"""A fake HTTP layer under stripe-python: the real ``stripe.StripeClient`` (and so the real
``StripeGateway`` and ``mamba stripe smoke``) builds and sends its requests as usual, and this
transport records each one as Stripe would receive it (method, path, headers, the form body
decoded to its bracketed keys) and answers from a responder. No network.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import stripe


@dataclass
class SentRequest:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]  # ``flow_data[subscription_cancel][subscription]`` -> ``sub_1``
    headers: dict[str, str]


Responder = Callable[[SentRequest], tuple[int, dict[str, Any]]]


@dataclass
class RecordingHTTPClient(stripe.HTTPClient):
    """``responder(request) -> (status, json body)``; every request lands in ``sent``."""

    responder: Responder
    sent: list[SentRequest] = field(default_factory=list)
    name: ClassVar[str] = "recording"

    def __post_init__(self) -> None:
        super().__init__()

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, **_: Any
    ) -> tuple[str, int, Mapping[str, str]]:
        parts = urlsplit(url)
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        sent = SentRequest(
            method=method.upper(),
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            form=dict(parse_qsl(body, keep_blank_values=True)),
            headers=dict(headers or {}),
        )
        self.sent.append(sent)
        status, answer = self.responder(sent)
        return json.dumps(answer), status, {"Request-Id": f"req_{len(self.sent)}"}

    def close(self) -> None:
        return None
