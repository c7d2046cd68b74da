"""``chalice local`` made fit for concurrent clients, as the deployed API is.

Deployed, API Gateway gives each Lambda instance one request at a time. ``chalice local``
serves every connection on its own thread (``ThreadingMixIn``) but was written for one
developer's browser, and three things break once many clients call it at once (the load
scenario of ``bench/load.py``, 200 simulated users, found each of them):

* **The current request is shared.** ``Chalice.__call__`` stores the request on the app
  object (``app.current_request``) and every view reads it from there, so two requests on two
  threads can each read the other's: headers, body, the caller's token. Here both
  ``current_request`` and ``lambda_context`` become per-thread, which is what one request per
  Lambda instance gives the deployed API.
* **The listen backlog is 5.** ``socketserver`` queues five unaccepted connections; beyond
  that the kernel drops SYNs and the client retries after one, three, seven seconds, which
  shows up as multi-second latencies and connect timeouts. The backlog becomes 1024.
* **Unknown methods get an HTML 501.** ``BaseHTTPRequestHandler`` answers any method without
  a ``do_<METHOD>`` (TRACE, CONNECT, PROPFIND, ...) with its own HTML page. Here every method
  goes through the local gateway like GET does, so the app answers in the panel's error
  shape: 405 ``METHOD_NOT_ALLOWED`` with an ``Allow`` header on a known path, 404
  ``NOT_FOUND`` elsewhere (``local.gateway``).

``install()`` is idempotent; ``local.serve`` calls it before Chalice builds its server.
"""

from __future__ import annotations

import threading
from typing import Any

from chalice import app as chalice_app
from chalice import local as chalice_local

LISTEN_BACKLOG = 1024
_PATCHED = False
_PER_THREAD = threading.local()


def _per_thread(name: str) -> property:
    """An attribute of the app whose value each thread sees on its own (keyed by app, so two
    apps in one process, as in tests, stay apart)."""

    def get(self: Any) -> Any:
        values: dict[tuple[int, str], Any] = getattr(_PER_THREAD, "values", {})
        return values.get((id(self), name))

    def set_(self: Any, value: Any) -> None:
        values: dict[tuple[int, str], Any] | None = getattr(_PER_THREAD, "values", None)
        if values is None:
            values = _PER_THREAD.values = {}
        values[(id(self), name)] = value

    return property(get, set_)


class _AnyMethodHandler(chalice_local.ChaliceRequestHandler):
    """Every HTTP method, known to ``http.server`` or not, goes to the local gateway."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)


def install() -> None:
    global _PATCHED
    if _PATCHED:
        return
    chalice_app.Chalice.current_request = _per_thread("current_request")  # type: ignore[assignment]
    chalice_app.Chalice.lambda_context = _per_thread("lambda_context")  # type: ignore[assignment]
    chalice_local.ThreadedHTTPServer.request_queue_size = LISTEN_BACKLOG
    original_init = chalice_local.LocalDevServer.__init__

    def init(self: Any, app_object: Any, config: Any, host: str, port: int, **kwargs: Any) -> None:
        kwargs.setdefault("handler_cls", _AnyMethodHandler)
        original_init(self, app_object, config, host, port, **kwargs)

    chalice_local.LocalDevServer.__init__ = init  # type: ignore[method-assign]
    _PATCHED = True
