"""The cyclic garbage collector waits while a Lambda environment starts (docs/performance.md).

A cold function imports some 600 modules and builds thousands of classes and functions, for its
init and for its first request (whatever the doors bind lazily). Every 700 allocations the cyclic
GC runs, and now and then a full collection walks every object made so far: about a tenth of
the cold start's CPU, to find almost nothing, since modules, classes and their functions live as
long as the process. Importing this module first (``app.py``) pauses the collector on Lambda;
``resume()`` runs once the first invocation has been answered (``middleware``, registered for
every event type, and SnapStart's before-snapshot hook): it moves everything made so far to
the permanent generation (``gc.freeze()``: later collections do not walk it again) and turns the
collector back on. The cost: cyclic garbage the start made is frozen with the rest and never
freed. Measured after the first ``GET .../servers``: 403 unreachable objects among 120,000 (a few
tens of KB, once per environment), against a full collection of about 20 ms of CPU (60 under load)
that would find them.

Only on Lambda (``AWS_LAMBDA_FUNCTION_NAME`` set): a test run or the local server imports the
app once and may answer nothing through it for a long time.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.Lock()
_paused = False


def pause() -> bool:
    """Turn the cyclic GC off while a Lambda environment starts; True when it did."""
    global _paused
    with _LOCK:
        if _paused or not os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or not gc.isenabled():
            return False
        gc.disable()
        _paused = True
        return True


def resume() -> bool:
    """Freeze what the start made and turn the GC back on (once; True when it did)."""
    global _paused
    with _LOCK:
        if not _paused:
            return False
        gc.freeze()
        gc.enable()
        _paused = False
        return True


def middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for every event type: the first answer resumes the collector."""
    try:
        return get_response(event)
    finally:
        if _paused:
            resume()


pause()
