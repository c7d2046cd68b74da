"""The node: configuration, the panel client, the servers it holds, and the boot sequence (§5.11)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from local.wings_sim.config import NodeConfig
from local.wings_sim.remote import PanelClient, RemoteError
from local.wings_sim.servers import Server
from local.wings_sim.tokens import DenyList, UniqueIds

log = logging.getLogger("wings_sim")


class BootError(Exception):
    """The panel refused the node (4xx) or sent a server list Wings could not decode."""


class Daemon:
    def __init__(self, config: NodeConfig, panel: PanelClient | None = None) -> None:
        self.config = config
        self.panel = panel or PanelClient(config)
        self.servers: dict[str, Server] = {}
        self.deny = DenyList()
        self.unique_ids = UniqueIds()
        self.boot_time = int(time.time())
        self.background: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    async def boot(self, retry_delay: float = 1.0, max_delay: float = 10.0) -> None:
        """Load every server from the panel; wait politely while the panel is down, stop on a 4xx."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        delay = retry_delay
        while True:
            try:
                documents = await self.panel.list_servers()
                break
            except RemoteError as exc:
                if exc.permanent:
                    raise BootError(f"the panel refused the boot server list: {exc}") from exc
                log.warning("panel not reachable for boot (%s); retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_delay)
        for document in documents:
            try:
                server = Server(self.config, self.panel, document)
            except (RemoteError, KeyError, TypeError) as exc:
                # Wings skips a server whose settings fail to decode, with an error log.
                log.error("skipping a server from the boot list: %s", exc)
                continue
            self.servers[server.uuid] = server
            server.directory.mkdir(parents=True, exist_ok=True)
        log.info("booted with %d server(s) from %s", len(self.servers), self.config.remote)
        self.boot_time = int(time.time())
        self.spawn(self._reset())

    async def _reset(self) -> None:
        try:
            await self.panel.reset()
        except RemoteError as exc:
            log.warning("POST /servers/reset failed: %s", exc)

    async def shutdown(self) -> None:
        for server in list(self.servers.values()):
            with contextlib.suppress(Exception):
                await server.kill()
        for task in list(self.background):
            task.cancel()
        await self.panel.close()
