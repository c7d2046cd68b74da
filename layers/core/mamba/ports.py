"""Ports: what services need from the outside world. Adapters implement them; tests fake them."""

from __future__ import annotations

from typing import Any, Protocol

from mamba.domain.operations import Operation


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
