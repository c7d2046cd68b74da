"""The node: configuration, the panel client, the servers it holds, and the boot sequence (§5.11)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from local.wings_sim.config import NodeConfig
from local.wings_sim.remote import PanelClient, RemoteError
from local.wings_sim.servers import RUNNING, STARTING, PowerBusyError, Server, SuspendedError
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
        # Open console sockets (websocket.Session), so ``POST /api/deauthorize-user`` can close a user's.
        self.sockets: set[Any] = set()
        self.unique_ids = UniqueIds()
        self.boot_time = int(time.time())
        self.background: set[asyncio.Task[Any]] = set()
        self.stopping = False

    @property
    def states_path(self) -> Path:
        return self.config.state_dir / "states.json"

    def add(self, server: Server) -> None:
        server.on_state = self.save_states
        self.servers[server.uuid] = server
        server.directory.mkdir(parents=True, exist_ok=True)

    def save_states(self, _changed: Server) -> None:
        # Like Wings' states.json: servers that were running come back after a restart of the node.
        # A shutdown kills the processes but keeps the file as it was, so they restart next time.
        if self.stopping:
            return
        self.states_path.parent.mkdir(parents=True, exist_ok=True)
        states = {uuid: server.state for uuid, server in self.servers.items()}
        self.states_path.write_text(json.dumps(states), encoding="utf-8")

    def _previous_states(self) -> dict[str, str]:
        try:
            states = json.loads(self.states_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return states if isinstance(states, dict) else {}

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
            self.add(server)
        log.info("booted with %d server(s) from %s", len(self.servers), self.config.remote)
        self.boot_time = int(time.time())
        self.spawn(self._reset())
        for uuid, state in self._previous_states().items():
            if uuid in self.servers and state in (STARTING, RUNNING):
                self.spawn(self._restart(self.servers[uuid]))

    async def _restart(self, server: Server) -> None:
        try:
            await server.power("start", 30)
        except (PowerBusyError, SuspendedError, RemoteError, OSError) as exc:
            log.warning("server %s was running before the restart but did not start: %s", server.uuid, exc)

    async def _reset(self) -> None:
        try:
            await self.panel.reset()
        except RemoteError as exc:
            log.warning("POST /servers/reset failed: %s", exc)

    async def shutdown(self) -> None:
        self.stopping = True
        for server in list(self.servers.values()):
            with contextlib.suppress(Exception):
                await server.kill()
        for task in list(self.background):
            task.cancel()
        await self.panel.close()
