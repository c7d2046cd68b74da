"""Servers as real local processes: configuration, power state machine, console, stats and install.

State machine (wings-contract.md §2.4): offline → starting → running → stopping → offline. A server's
process runs ``/bin/sh -c <startup>`` in the server directory, in its own session so stop signals and
kill reach the whole process group. ``{{VAR}}`` placeholders in the startup command are filled from the
server environment (Wings' yolk images do the same inside the container).
"""

from __future__ import annotations

import asyncio
import collections
import configparser
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import yaml

from local.wings_sim.config import NodeConfig
from local.wings_sim.jail import BadPathError, disk_usage, resolve
from local.wings_sim.remote import PanelClient, RemoteError

log = logging.getLogger("wings_sim.servers")

OFFLINE, STARTING, RUNNING, STOPPING = "offline", "starting", "running", "stopping"
STOP_TIMEOUT = 600.0  # Wings waits up to 10 minutes for a stop before killing
CONSOLE_LINES = 1000
LINE_LIMIT = 1 << 20
DISK_CACHE_SECONDS = 2.0
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGABRT": signal.SIGABRT}
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")
DAEMON = "[Pterodactyl Daemon]: "
INSTALL_PREFIX = "[Mamba Wings simulator] "


class PowerBusyError(Exception):
    """Another power action holds the server's lock."""


class SuspendedError(Exception):
    """Start or restart asked of a suspended server."""


def install_allowed(settings: dict[str, Any], allowed: frozenset[str]) -> bool:
    """Whether this server's install script may run on the simulator's host.

    The simulator decides, not the panel: real Wings runs every script inside a container, the
    simulator runs it on the developer's machine, so it runs only the scripts of eggs it trusts
    (``settings.egg.id`` in ``allowed``: the local seed's blueprints and ``--allow-install``).
    """
    egg = settings.get("egg")
    egg_id = egg.get("id") if isinstance(egg, dict) else None
    return isinstance(egg_id, str) and egg_id in allowed


class Server:
    def __init__(self, config: NodeConfig, panel: PanelClient, document: dict[str, Any]) -> None:
        self.node = config
        self.panel = panel
        self.uuid: str = document["settings"]["uuid"] if "settings" in document else document["uuid"]
        self.settings: dict[str, Any] = {}
        self.process_configuration: dict[str, Any] = {}
        self.apply(document)
        self.directory = config.server_dir(self.uuid)
        self.state = OFFLINE
        self.installing = False
        self.deleted = False
        self.console: collections.deque[str] = collections.deque(maxlen=CONSOLE_LINES)
        self.subscribers: set[asyncio.Queue[tuple[str, list[str]]]] = set()
        self.power_lock = asyncio.Lock()
        self.proc: asyncio.subprocess.Process | None = None
        self.started_at: float | None = None
        self._ps: dict[int, psutil.Process] = {}
        self._disk: tuple[float, int] = (0.0, 0)
        self._exited = asyncio.Event()
        self._exited.set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.on_state: Callable[[Server], None] | None = None

    # -- configuration -------------------------------------------------------------------------
    def apply(self, document: dict[str, Any]) -> None:
        settings = document.get("settings")
        process = document.get("process_configuration")
        if not isinstance(settings, dict) or not isinstance(process, dict):
            raise RemoteError(f"configuration of {self.uuid} lacks settings or process_configuration")
        if settings.get("uuid") != self.uuid:
            raise RemoteError(f"configuration uuid {settings.get('uuid')!r} is not {self.uuid}")
        self.settings, self.process_configuration = settings, process

    async def sync(self) -> None:
        self.apply(await self.panel.server(self.uuid))

    @property
    def suspended(self) -> bool:
        return bool(self.settings.get("suspended"))

    @property
    def denylist(self) -> list[str]:
        egg = self.settings.get("egg") or {}
        return [str(p) for p in egg.get("file_denylist") or []]

    def environment(self) -> dict[str, str]:
        env = {str(k).upper(): _env_str(v) for k, v in (self.settings.get("environment") or {}).items()}
        build = self.settings.get("build") or {}
        default = (self.settings.get("allocations") or {}).get("default") or {}
        invocation = str(self.settings.get("invocation") or "")
        # Wings always sets these, overriding same-named keys.
        env.update(
            {
                "TZ": "UTC",
                "STARTUP": invocation,
                "SERVER_MEMORY": str(build.get("memory_limit", 0)),
                "SERVER_IP": str(default.get("ip", "0.0.0.0")),
                "SERVER_PORT": str(default.get("port", 0)),
            }
        )
        return env

    def process_env(self) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.directory), "LANG": "C.UTF-8"}
        env.update(self.environment())
        return env

    def startup_command(self) -> str:
        env = self.environment()
        return PLACEHOLDER.sub(lambda m: env.get(m.group(1), m.group(0)), env["STARTUP"])

    # -- events --------------------------------------------------------------------------------
    def publish(self, event: str, *args: str) -> None:
        for queue in list(self.subscribers):
            queue.put_nowait((event, list(args)))

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.publish("status", state)
            if self.on_state is not None:
                self.on_state(self)

    def console_line(self, line: str) -> None:
        self.console.append(line)
        self.publish("console output", line)

    def daemon_line(self, text: str) -> None:
        self.console_line(f"{DAEMON}{text}")

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # -- stats ---------------------------------------------------------------------------------
    def disk_bytes(self) -> int:
        at, value = self._disk
        if time.monotonic() - at > DISK_CACHE_SECONDS and self.directory.is_dir():
            value = disk_usage(self.directory)
            self._disk = (time.monotonic(), value)
        return value

    def utilization(self) -> dict[str, Any]:
        memory, cpu = 0, 0.0
        if self.proc is not None and self.state != OFFLINE:
            for proc in self._process_tree():
                with contextlib.suppress(psutil.Error):
                    memory += proc.memory_info().rss
                    cpu += proc.cpu_percent(None)
        limit_mib = int((self.settings.get("build") or {}).get("memory_limit") or 0)
        running = self.state != OFFLINE and self.started_at is not None
        return {
            "memory_bytes": memory,
            "memory_limit_bytes": limit_mib * 1024 * 1024,
            "cpu_absolute": round(cpu, 3),
            # A local process has no network namespace of its own to count.
            "network": {"rx_bytes": 0, "tx_bytes": 0},
            "uptime": int((time.monotonic() - self.started_at) * 1000) if running and self.started_at else 0,
            "state": self.state,
            "disk_bytes": self.disk_bytes(),
        }

    def _process_tree(self) -> list[psutil.Process]:
        if self.proc is None:
            return []
        try:
            root = self._ps.get(self.proc.pid) or psutil.Process(self.proc.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return []
        # Keep Process objects between calls so cpu_percent measures the interval since the last call.
        self._ps = {p.pid: self._ps.get(p.pid, p) for p in tree}
        return list(self._ps.values())

    def api_object(self) -> dict[str, Any]:
        usage = self.utilization()
        configuration = dict(self.settings)
        configuration.setdefault("crash_detection_enabled", True)
        configuration.setdefault("labels", {})
        return {
            "state": self.state,
            "is_suspended": self.suspended,
            "utilization": usage,
            "configuration": configuration,
        }

    # -- power ---------------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None and self.state != OFFLINE

    async def power(self, action: str, wait_seconds: float | None) -> None:
        """Run a power action under the lock; ``wait_seconds`` None/0 = don't wait (§2.4)."""
        if action == "kill":
            await self.kill()
            return
        if self.installing:
            raise PowerBusyError("server is installing")
        if wait_seconds:
            try:
                await asyncio.wait_for(self.power_lock.acquire(), wait_seconds)
            except TimeoutError as exc:
                raise PowerBusyError("another power action is currently being processed") from exc
        elif self.power_lock.locked():
            raise PowerBusyError("another power action is currently being processed")
        else:
            await self.power_lock.acquire()
        try:
            if action == "start":
                await self.start()
            elif action == "stop":
                await self.stop()
            elif action == "restart":
                await self.stop()
                await self.start()
        finally:
            self.power_lock.release()

    async def start(self) -> None:
        if self.is_running:
            return
        # Pre-flight as Wings: sync from the panel, refuse if suspended, rewrite config files.
        await self.sync()
        if self.suspended:
            raise SuspendedError("Cannot start or restart a server that is suspended.")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.rewrite_config_files()
        command = self.startup_command()
        self.set_state(STARTING)
        self.daemon_line("Server marked as starting...")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                "/bin/sh",
                "-c",
                command,
                cwd=self.directory,
                env=self.process_env(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                limit=LINE_LIMIT,
            )
        except OSError:
            self.set_state(OFFLINE)
            raise
        self.started_at = time.monotonic()
        self._ps = {}
        self._exited.clear()
        if not self._done_patterns():
            self.set_state(RUNNING)
        self.spawn(self._read_output(self.proc))

    def _done_patterns(self) -> list[str]:
        startup = self.process_configuration.get("startup") or {}
        return [str(d) for d in startup.get("done") or [] if d]

    def _is_done(self, line: str) -> bool:
        startup = self.process_configuration.get("startup") or {}
        if startup.get("strip_ansi"):
            line = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line)
        for pattern in self._done_patterns():
            if pattern.startswith("regex:"):
                with contextlib.suppress(re.error):
                    if re.search(pattern[len("regex:") :], line):
                        return True
            elif pattern in line:
                return True
        return False

    async def _read_output(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while True:
            try:
                raw = await proc.stdout.readline()
            except ValueError:
                # A line longer than the buffer: take what is there as one console line.
                raw = await proc.stdout.read(LINE_LIMIT)
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.console_line(line)
            if self.state == STARTING and self._is_done(line):
                self.set_state(RUNNING)
        code = await proc.wait()
        if proc is self.proc:
            self.started_at = None
            self.daemon_line(f"Server process exited with code {code}.")
            self.set_state(OFFLINE)
            self.publish("stats", json.dumps(self.utilization()))
        self._exited.set()

    def _signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        if not self.is_running:
            return
        self.set_state(STOPPING)
        stop = self.process_configuration.get("stop") or {}
        kind, value = stop.get("type"), str(stop.get("value") or "")
        if kind == "command":
            await self.write_stdin(value)
        elif kind == "signal":
            # Anything but SIGINT/SIGTERM/SIGABRT is SIGKILL in Wings (so "^C" kills).
            self._signal(SIGNALS.get(value.upper(), signal.SIGKILL))
        else:
            self._signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self._exited.wait(), timeout)
        except TimeoutError:
            await self.kill()

    async def kill(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self._signal(signal.SIGKILL)
        await self._exited.wait()

    async def write_stdin(self, line: str) -> None:
        if self.proc is None or self.proc.stdin is None or self.proc.returncode is not None:
            return
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            log.warning("server %s: stdin closed: %s", self.uuid, exc)

    # -- config files (process_configuration.configs) ------------------------------------------
    def rewrite_config_files(self) -> None:
        for entry in self.process_configuration.get("configs") or []:
            try:
                path = resolve(self.directory, str(entry["file"]))
                _rewrite(path, str(entry["parser"]), list(entry.get("replace") or []))
            except (BadPathError, KeyError, ValueError, OSError, yaml.YAMLError, configparser.Error) as exc:
                self.daemon_line(f"Failed to update configuration file {entry.get('file')}: {exc}")

    # -- install -------------------------------------------------------------------------------
    async def install(self, reinstall: bool, start_after: bool = False) -> None:
        """Sync, run the install script if the simulator trusts the egg, report to the panel (§5.6)."""
        self.installing = True
        self.publish("install started", "")
        successful = False
        try:
            await self.sync()
            self.directory.mkdir(parents=True, exist_ok=True)
            if self.settings.get("skip_egg_scripts"):
                self._install_line("skip_egg_scripts is set: no install script was run.")
                successful = True
            else:
                document = await self.panel.install_script(self.uuid)
                if install_allowed(self.settings, self.node.install_eggs):
                    successful = await self._run_install_script(document)
                else:
                    self._install_line(
                        "This egg is not on the simulator's install allowlist (see --allow-install); "
                        "the install script was not run and the install is reported as successful."
                    )
                    successful = True
        except (RemoteError, OSError) as exc:
            self._install_line(f"Install failed: {exc}")
        finally:
            self.installing = False
        try:
            await self.panel.install_status(self.uuid, successful, reinstall)
        except RemoteError as exc:
            log.error("server %s: install status callback failed: %s", self.uuid, exc)
        self.publish("install completed", "")
        if successful and start_after and not self.deleted:
            with contextlib.suppress(PowerBusyError, SuspendedError, RemoteError, OSError):
                await self.power("start", 30)

    def _install_line(self, text: str) -> None:
        line = INSTALL_PREFIX + text
        with self._install_log().open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        self.publish("install output", line)

    def _install_log(self) -> Path:
        path = self.node.state_dir / "logs" / "install" / f"{self.uuid}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    async def _run_install_script(self, document: dict[str, Any]) -> bool:
        # No containers here: /mnt/server is mapped by rewriting it to the server directory.
        script = str(document.get("script") or "").replace("\r\n", "\n")
        script = script.replace("/mnt/server", str(self.directory))
        work = self.node.state_dir / "install" / self.uuid
        work.mkdir(parents=True, exist_ok=True)
        script_path = work / "install.sh"
        script_path.write_text(script, encoding="utf-8")
        entrypoint = str(document.get("entrypoint") or "bash")
        if shutil.which(entrypoint) is None:
            entrypoint = "/bin/sh"
        env = self.process_env()
        env["TMPDIR"] = str(work)
        self._install_line(f"Running the install script with {entrypoint} in {self.directory}")
        proc = await asyncio.create_subprocess_exec(
            entrypoint,
            str(script_path),
            cwd=self.directory,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        assert proc.stdout is not None
        with self._install_log().open("a", encoding="utf-8") as fh:
            while raw := await proc.stdout.readline():
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                fh.write(line + "\n")
                self.publish("install output", line)
        code = await proc.wait()
        await asyncio.to_thread(shutil.rmtree, work, True)  # the script and its TMPDIR go with it
        self._install_line(f"Install script exited with code {code}.")
        return code == 0

    # -- teardown ------------------------------------------------------------------------------
    async def destroy(self) -> None:
        self.deleted = True
        self.publish("deleted", "null")
        await self.kill()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.to_thread(shutil.rmtree, self.directory, True)
        await asyncio.to_thread(shutil.rmtree, self.node.state_dir / "install" / self.uuid, True)
        self._install_log().unlink(missing_ok=True)


def _env_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _rewrite(path: Path, parser: str, replace: list[dict[str, Any]]) -> None:
    """Apply ``configs[].replace`` with the named parser; the file is created if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    rules = [(str(r["match"]), r.get("if_value"), r.get("replace_with", r.get("value"))) for r in replace]
    if parser in ("properties", "file"):
        lines = text.splitlines()
        for match, if_value, new in rules:
            found = False
            for i, line in enumerate(lines):
                if parser == "properties":
                    key, sep, current = line.partition("=")
                    if sep and key.strip() == match:
                        found = True
                        if if_value is None or current.strip() == _scalar(if_value):
                            lines[i] = f"{match}={_scalar(new)}"
                elif line.startswith(match):
                    found = True
                    lines[i] = _scalar(new)
            if not found and parser == "properties" and if_value is None:
                lines.append(f"{match}={_scalar(new)}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif parser in ("json", "yaml"):
        data = (json.loads(text) if parser == "json" else yaml.safe_load(text)) if text.strip() else {}
        data = data if isinstance(data, dict) else {}
        for match, if_value, new in rules:
            node = data
            keys = match.split(".")
            for key in keys[:-1]:
                node = node.setdefault(key, {}) if isinstance(node.get(key), dict | None) else {}
            if if_value is None or node.get(keys[-1]) == if_value:
                node[keys[-1]] = new
        out = json.dumps(data, indent=4) if parser == "json" else yaml.safe_dump(data, sort_keys=False)
        path.write_text(out, encoding="utf-8")
    elif parser == "ini":
        ini = configparser.ConfigParser(interpolation=None)
        ini.optionxform = str  # type: ignore[assignment,method-assign]
        ini.read_string(text)
        for match, if_value, new in rules:
            section, _, key = match.rpartition(".")
            section = section or "DEFAULT"
            if section != "DEFAULT" and not ini.has_section(section):
                ini.add_section(section)
            if if_value is None or ini.get(section, key, fallback=None) == _scalar(if_value):
                ini.set(section, key, _scalar(new))
        with path.open("w", encoding="utf-8") as fh:
            ini.write(fh)
    else:
        raise ValueError(f"parser {parser!r} is not supported by the simulator")
