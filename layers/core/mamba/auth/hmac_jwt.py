"""PyJWT loaded with its HMAC algorithms only.

Every token the panel signs or accepts is HS256 (access tokens, ``mamba.auth.tokens``; the Wings
JWTs, ``mamba.auth.wings_jwt``), and every decode names ``algorithms=["HS256"]``. PyJWT imports
``cryptography`` at import when it is installed, for the RSA, EC and EdDSA algorithms we never
use: about 30 ms of the first authenticated request of every cold function (docs/performance.md).

PyJWT registers those algorithms only when ``import cryptography`` succeeds
(``jwt.algorithms.has_crypto``); while PyJWT itself is imported here, ``cryptography`` is marked
absent in ``sys.modules``, so that import raises ``ModuleNotFoundError`` and PyJWT keeps its HMAC
algorithms alone. The mark is removed at once, so any later ``import cryptography`` works as usual.
When something imported ``cryptography`` first (tests, through moto), nothing is hidden and PyJWT
loads as usual: HS256 behaves the same either way, and a token with any other ``alg`` is refused
either way (``algorithms`` names HS256 only).
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["jwt", "load"]

_BLOCKED = "cryptography"
_LOCK = threading.Lock()


def load() -> ModuleType:
    """The ``jwt`` module, imported without ``cryptography`` unless that is imported already."""
    found = sys.modules.get("jwt")
    if found is not None:
        return found
    with _LOCK:
        hide = _BLOCKED not in sys.modules
        if hide:
            sys.modules[_BLOCKED] = None  # type: ignore[assignment]  # "import cryptography" → ModuleNotFoundError
        try:
            return importlib.import_module("jwt")
        finally:
            if hide and sys.modules.get(_BLOCKED, 0) is None:
                del sys.modules[_BLOCKED]


if TYPE_CHECKING:
    import jwt
else:
    jwt = load()
