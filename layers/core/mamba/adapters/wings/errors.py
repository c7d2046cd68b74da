"""The typed errors of a Wings call. They live in ``mamba.domain.errors`` (so services and
workflow tasks can name them without importing an adapter); this module re-exports them
for callers of the client."""

from __future__ import annotations

from mamba.domain.errors import (
    WingsFileDeniedError,
    WingsNotFoundError,
    WingsRejectedError,
    WingsUnauthorizedError,
    WingsUnavailableError,
)

__all__ = [
    "WingsFileDeniedError",
    "WingsNotFoundError",
    "WingsRejectedError",
    "WingsUnauthorizedError",
    "WingsUnavailableError",
]
