"""The process's botocore session and its clients: one session, one client per service and endpoint.

Each botocore session has its own loader and its own credential chain, so every new session reads
the service's model files again (DynamoDB's is the largest the panel loads) and resolves the
credentials again. pynamodb, left alone, makes a session and a client per item class; boto3 makes
its own default session. The first request then built two DynamoDB clients and loaded the model
twice (docs/performance.md). Here every adapter, pynamodb's items included
(``mamba.adapters.dynamo.items``), gets its client from one session, and one DynamoDB client serves
both pynamodb and the boto3-style callers.

Clients are thread-safe once made; making them is not (botocore's loader and credential
resolution), hence the lock. The clients outlive ``bootstrap.reset()`` on purpose: they hold no
configuration beyond their key (service, region, endpoint, options), and making one costs tens of
milliseconds. ``forget()`` drops them all, with their pooled connections and the resolved
credentials: the SnapStart after-restore hook calls it, because a restored copy must not reuse
the snapshot's sockets or credentials (``mamba.snapstart``).

botocore's transport (``botocore.httpsession``) is imported here without ``urllib3.contrib.pyopenssl``
(see ``load_transport``), and ``mamba.adapters.dynamo`` imports this module before pynamodb does.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from botocore.session import Session

# Generous for the threaded local server (issue 18's load scenario); a Lambda serves one request
# at a time and opens one connection.
MAX_POOL_CONNECTIONS = 32
CONNECT_TIMEOUT_S = 3

_LOCK = threading.RLock()
_SESSION: Session | None = None
_CLIENTS: dict[tuple[object, ...], BaseClient] = {}
_PYOPENSSL = "urllib3.contrib.pyopenssl"


def load_transport() -> ModuleType:
    """``botocore.httpsession``, imported without loading pyOpenSSL and ``cryptography``.

    botocore's transport only wants the standard library's ``ssl.SSLContext``: it imports
    ``orig_util_SSLContext`` from ``urllib3.contrib.pyopenssl`` (that module saves urllib3's
    ``SSLContext`` before it could inject pyOpenSSL) and, when that import fails, takes
    ``urllib3.util.ssl_.SSLContext``, the very same class since nothing injects pyOpenSSL here.
    Importing the contrib module costs pyOpenSSL plus 50 ``cryptography`` modules, about 30 ms
    of every cold function's first AWS call (docs/performance.md), for a class it already has.
    So while botocore's transport is imported, the contrib module is marked absent; the mark
    is removed at once, and nothing is hidden when something imported it before.
    """
    found = sys.modules.get("botocore.httpsession")
    if found is not None:
        return found
    with _LOCK:
        hide = _PYOPENSSL not in sys.modules
        if hide:
            sys.modules[_PYOPENSSL] = None  # type: ignore[assignment]  # its import raises ImportError
        try:
            return importlib.import_module("botocore.httpsession")
        finally:
            if hide and sys.modules.get(_PYOPENSSL, 0) is None:
                del sys.modules[_PYOPENSSL]


load_transport()


def session() -> Session:
    """The process's one botocore session (credentials resolved once, model files read once)."""
    global _SESSION
    with _LOCK:
        if _SESSION is None:
            from botocore.session import get_session

            _SESSION = get_session()
        return _SESSION


def client(
    service: str,
    region: str | None,
    endpoint_url: str | None,
    *,
    read_timeout: int = 10,
    **options: Any,
) -> BaseClient:
    """The client of ``service`` for this region and endpoint, made once per process.

    ``options`` go to botocore's ``Config`` (``signature_version``, ``s3``...) and are part of
    the key, so two callers asking for different options get different clients.
    """
    key = (service, region, endpoint_url, read_timeout, tuple(sorted((k, repr(v)) for k, v in options.items())))
    found = _CLIENTS.get(key)
    if found is not None:
        return found
    with _LOCK:
        found = _CLIENTS.get(key)
        if found is None:
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=CONNECT_TIMEOUT_S,
                read_timeout=read_timeout,
                max_pool_connections=MAX_POOL_CONNECTIONS,
                **options,
            )
            found = session().create_client(service, region_name=region, endpoint_url=endpoint_url, config=config)
            _CLIENTS[key] = found
        return found


def forget() -> None:
    """Drop every client (closing its pooled connections) and the session with the credentials it
    resolved. The model files it read are kept for the next session: they are the same files."""
    global _SESSION
    with _LOCK:
        for made in _CLIENTS.values():
            try:
                made.close()
            except Exception:  # noqa: BLE001, S110 - a socket that is already gone is what we want anyway
                pass
        _CLIENTS.clear()
        if _SESSION is not None:
            from botocore.session import get_session

            fresh = get_session()
            fresh.register_component("data_loader", _SESSION.get_component("data_loader"))
            _SESSION = fresh
