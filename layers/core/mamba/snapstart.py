"""Lambda SnapStart hooks of the API function (issue 18; infra ``snapstart()``, docs/performance.md).

With SnapStart, Lambda runs the function's init once per published version, snapshots the
memory, and starts every new execution environment by restoring that snapshot. So whatever the
first request would do lazily, the before-snapshot hook does ahead: the restored copy starts with
the settings parsed, the hot path imported and every route's schema built.

The snapshot is shared by every copy restored from it, so the after-restore hook re-creates what
must be unique to one copy or fresh after a pause of hours:

* the AWS clients, their pooled connections and the credentials the session resolved
  (``aws_clients.forget``): a socket from the snapshot is dead, and the credentials may have
  expired; the model files the session read stay in memory (they are the same for every copy);
* pynamodb's shared connections and bootstrap's cached adapters, which hold the clients (the
  parsed settings are kept: re-reading the secrets would put a Secrets Manager call on the first
  request);
* the ``random`` module's state, which would otherwise repeat in every copy (the panel's secrets
  and ids come from ``secrets`` and ``uuid4``, which read the OS's entropy at each call).

Nothing is cached across processes: the snapshot is Lambda's own, taken after this process's
init, and the hooks run only there (``snapshot_restore_py`` exists only in Lambda's runtime).
"""

from __future__ import annotations

import importlib.util
import random

from mamba.observability import logger


def register() -> bool:
    """Register the hooks with Lambda's runtime when it offers them; False elsewhere."""
    if importlib.util.find_spec("snapshot_restore_py") is None:
        return False
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True


def before_snapshot() -> dict[str, int]:
    """Import and prime the hot path without calling anything over the network. Returns counts
    (for the log line and the tests)."""
    from mamba import bootstrap, init_gc, lazy
    from mamba.auth import guard, tokens  # noqa: F401 - imported to be in the snapshot (PyJWT without cryptography)
    from mamba.routes import REGISTRY

    bootstrap.settings()
    bootstrap.dynamo_tables()
    bootstrap.guard_ports()  # the guard's identity and API-key repositories (pynamodb's items)
    bootstrap.boto_client("dynamodb")  # the one DynamoDB client: reads its model files into the session
    from mamba.adapters.dynamo.items import MainItem

    MainItem._get_connection()  # the shared pynamodb connection, on that client
    modules = lazy.import_deferred()
    # Each route names its models (mamba.routes.resolve_model): reading them imports their modules.
    models = {
        m for spec in REGISTRY for m in (spec.request_model, spec.response_model, spec.query_model) if m is not None
    }
    for model in models:
        model.model_rebuild()  # builds a deferred schema now; a complete one is left alone
    init_gc.resume()  # what was built for the snapshot lives as long as it does: frozen, not walked again
    primed = {"modules": len(modules), "schemas": len(models)}
    logger.info("snapstart: primed before the snapshot", extra=primed)
    return primed


def after_restore() -> None:
    """Re-create what must not be shared between restored copies (see the module docstring)."""
    from mamba import bootstrap
    from mamba.adapters import aws_clients
    from mamba.adapters.dynamo import items

    items.forget_connections()
    aws_clients.forget()
    bootstrap.reset(keep=("settings", "dynamo_tables"))  # the adapters held the old clients
    random.seed()  # from os.urandom: every restored copy gets its own sequence
    logger.info("snapstart: restored; AWS clients, connections and random state re-created")
