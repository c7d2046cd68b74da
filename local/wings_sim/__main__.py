"""``python -m local.wings_sim --config path/to/config.yml``: boot against the panel, then serve."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from local.blueprints import SIMULATOR_BLUEPRINT_IDS
from local.wings_sim.app import build_app
from local.wings_sim.config import ConfigError, NodeConfig
from local.wings_sim.daemon import BootError, Daemon

log = logging.getLogger("wings_sim")
WATCHDOG_SECONDS = 1.0


async def _watch_parent(parent: int, stop: asyncio.Event) -> None:
    # Started by the launcher: exit when it dies, so no simulator is left holding the port.
    while not stop.is_set():
        await asyncio.sleep(WATCHDOG_SECONDS)
        if os.getppid() != parent:
            stop.set()


async def serve(config: NodeConfig, host: str, token_check_seconds: float, watch_parent: bool) -> int:
    daemon = Daemon(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    watcher = asyncio.ensure_future(_watch_parent(os.getppid(), stop)) if watch_parent else None
    runner: web.AppRunner | None = None
    try:
        boot = asyncio.ensure_future(daemon.boot())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({boot, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not boot.done():
            boot.cancel()
            return 0
        boot.result()
        runner = web.AppRunner(build_app(daemon, token_check_seconds), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, config.port).start()
        log.info("Wings simulator for node %s listening on http://%s:%d", config.uuid, host, config.port)
        print(f"wings-sim ready http://{host}:{config.port}", flush=True)
        await stopping
        return 0
    except BootError as exc:
        log.error("%s", exc)
        return 1
    finally:
        if watcher is not None:
            watcher.cancel()
        await daemon.shutdown()
        if runner is not None:
            with contextlib.suppress(Exception):
                await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.wings_sim", description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="the node's Wings config.yml")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--token-check-seconds", type=float, default=30.0, help=argparse.SUPPRESS)
    parser.add_argument("--watch-parent", action="store_true", help="exit when the parent process dies")
    parser.add_argument(
        "--allow-install",
        action="append",
        default=[],
        metavar="EGG_ID",
        help="also run this egg's install script on this machine (repeatable; the local seed's are always run)",
    )
    args = parser.parse_args(argv)
    try:
        config = NodeConfig.load(args.config)
    except ConfigError as exc:
        print(f"wings-sim: {exc}", file=sys.stderr)
        return 2
    config.install_eggs = SIMULATOR_BLUEPRINT_IDS | frozenset(args.allow_install)
    logging.basicConfig(
        level=logging.DEBUG if config.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return asyncio.run(serve(config, args.host, args.token_check_seconds, args.watch_parent))


if __name__ == "__main__":
    sys.exit(main())
