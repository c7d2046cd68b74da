"""The API process of the local stack: ``chalice local`` with the deployed 404 behaviour.

``python -m local.serve --host H --port P`` installs ``local.gateway`` (an unknown route
answers 404 NOT_FOUND, as API Gateway does once infra configures it), ``local.concurrency``
(concurrent clients are served safely; TRACE and other unknown methods answer in the error
shape) and ``local.static_site``
(every non-API path serves the web app from ``web/dist``, with the security headers), then runs
Chalice's own CLI in this process:
``chalice local --no-autoreload --stage local --host H --port P``.

The launcher starts it in its own process group with the stack's environment. Should the
launcher die without stopping it (SIGKILL), a watchdog notices the new parent and exits,
so no server is left holding the port.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from local import concurrency, gateway, static_site

ROOT = Path(__file__).resolve().parent.parent
WATCHDOG_SECONDS = 1.0


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(WATCHDOG_SECONDS)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def chalice_argv(host: str, port: int, project_dir: Path = ROOT) -> list[str]:
    return [
        "chalice",
        "--project-dir",
        str(project_dir),
        "local",
        "--no-autoreload",
        "--stage",
        "local",
        "--host",
        host,
        "--port",
        str(port),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args(argv)

    threading.Thread(target=_watch_parent, args=(os.getppid(),), name="parent-watchdog", daemon=True).start()
    gateway.install()
    # Many clients at once, as deployed: per-thread current request, a real listen backlog,
    # every HTTP method answered in the panel's error shape (local.concurrency).
    concurrency.install()
    # The web app on the API's port, with the panel's security headers (local.static_site).
    static_site.install(static_site.StaticSite(connect_src=static_site.NodeOrigins(static_site.stored_nodes)))
    from chalice.cli import main as chalice_main

    sys.argv = chalice_argv(args.host, args.port)
    return int(chalice_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
