"""Ports: what services need from the outside world. Adapters implement them; tests fake them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from mamba.domain.operations import Operation
from mamba.domain.ratelimit import Limit


class OperationRepository(Protocol):
    def add(self, op: Operation) -> None: ...
    def get(self, tenant_id: str, op_id: str) -> Operation: ...
    def find(self, op_id: str) -> Operation: ...
    def save(self, op: Operation) -> None: ...


class Workflows(Protocol):
    def start(self, workflow: str, operation_id: str, payload: dict[str, Any]) -> str: ...


class HealthProbes(Protocol):
    def check(self) -> dict[str, str]: ...


class Clock(Protocol):
    def __call__(self) -> str: ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None: ...


class RateLimiter(Protocol):
    """Fixed-window counters (``mamba.domain.ratelimit.Limit``), shared by every container."""

    def add(self, limit: Limit, subject: str, now: int) -> int:
        """Count one event for ``subject`` in the current window; returns the window's count."""

    def peek(self, checks: Sequence[tuple[Limit, str]], now: int) -> list[int]:
        """The current window's count of each (limit, subject), in order, without counting."""


class Captcha(Protocol):
    def verify(self, token: str | None, remote_ip: str) -> None:
        """Raises CaptchaFailedError for a missing or rejected token and
        DependencyUnavailableError when the provider cannot be asked."""
