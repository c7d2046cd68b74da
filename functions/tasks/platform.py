"""The platform self-check workflow's task: probe one backing service.

Raises ``TransientError`` (retried by the ASL) when the service does not answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamba import bootstrap
from mamba.lazy import lazy_import

if TYPE_CHECKING:
    from mamba.services import health as health_service
else:
    health_service = lazy_import("mamba.services.health")


def check(event: dict[str, Any], context: Any = None) -> dict[str, str]:
    return health_service.probe_one(bootstrap.health_probes(), str(event["check"]))
