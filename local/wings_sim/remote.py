"""The simulator's calls to the panel's remote API (wings-contract.md §5), with Wings' transport rules.

``Authorization: Bearer <token_id>.<token>``; POST bodies are JSON and "no body" is the literal ``null``;
4xx is permanent, 5xx and network errors are retried with exponential backoff (≤ 12 s between tries,
about ``retry_seconds`` in total).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp

from local.wings_sim import VERSION
from local.wings_sim.config import NodeConfig

log = logging.getLogger("wings_sim.remote")


class RemoteError(Exception):
    """The panel answered with an error, or could not be reached in time."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        return self.status is not None and 400 <= self.status < 500


class RemoteDecodeError(RemoteError):
    """The panel answered 2xx with a document Wings cannot decode (fatal at boot, like a 4xx)."""

    @property
    def permanent(self) -> bool:
        return True


def _detail(status: int, text: str) -> str:
    # Wings reads only the first element of {"errors":[{"code","status","detail"}]}.
    try:
        first = json.loads(text)["errors"][0]
        return f"{first.get('code')}: {first.get('detail')}"
    except (ValueError, KeyError, IndexError, TypeError):
        return f"HTTP {status}: {text[:200]}"


class PanelClient:
    def __init__(self, config: NodeConfig, retry_seconds: float = 30.0) -> None:
        self.config = config
        self.retry_seconds = retry_seconds
        self._session: aiohttp.ClientSession | None = None

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.config.token_id}.{self.config.token}",
            "Accept": "application/vnd.pterodactyl.v1+json",
            "Content-Type": "application/json",
            "User-Agent": f"Pterodactyl Wings/v{VERSION} (id:{self.config.token_id})",
        }

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.config.remote_timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        url = f"{self.config.remote}/api/remote{path}"
        data = json.dumps(body) if method == "POST" else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_seconds
        delay = 0.5
        while True:
            try:
                session = await self.session()
                async with session.request(method, url, data=data, params=params, headers=self._headers()) as resp:
                    text = await resp.text()
                    if resp.status < 300:
                        return json.loads(text) if text.strip() else None
                    error = RemoteError(_detail(resp.status, text), resp.status)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = RemoteError(f"{method} {path}: {exc.__class__.__name__}: {exc}")
            except ValueError as exc:
                raise RemoteDecodeError(f"{method} {path}: response is not JSON ({exc})") from exc
            if error.permanent or loop.time() + delay > deadline:
                raise error
            log.warning("remote %s %s failed (%s), retrying in %.1fs", method, path, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 12.0)

    async def list_servers(self) -> list[dict[str, Any]]:
        """Every server of this node: page 0 first, then ``current_page+1 .. last_page`` in parallel (§5.3)."""
        per_page = self.config.boot_servers_per_page
        first = await self.request("GET", "/servers", params={"page": 0, "per_page": per_page})
        servers = list(_page_data(first))
        meta = first.get("meta") if isinstance(first, dict) else None
        if meta is not None:
            current, last = _meta_int(meta, "current_page"), _meta_int(meta, "last_page")
            pages = await asyncio.gather(
                *(
                    self.request("GET", "/servers", params={"page": page, "per_page": per_page})
                    for page in range(current + 1, last + 1)
                )
            )
            for page in pages:
                servers.extend(_page_data(page))
        return servers

    async def server(self, uuid: str) -> dict[str, Any]:
        document = await self.request("GET", f"/servers/{uuid}")
        if not isinstance(document, dict):
            raise RemoteError(f"configuration of {uuid} is not an object")
        return document

    async def install_script(self, uuid: str) -> dict[str, Any]:
        document = await self.request("GET", f"/servers/{uuid}/install")
        if not isinstance(document, dict):
            raise RemoteError(f"install document of {uuid} is not an object")
        return document

    async def install_status(self, uuid: str, successful: bool, reinstall: bool) -> None:
        await self.request("POST", f"/servers/{uuid}/install", {"successful": successful, "reinstall": reinstall})

    async def reset(self) -> None:
        await self.request("POST", "/servers/reset", None)

    async def backup_status(self, backup_uuid: str, body: dict[str, Any]) -> None:
        await self.request("POST", f"/backups/{backup_uuid}", body)

    async def backup_upload_urls(self, backup_uuid: str, size: int) -> dict[str, Any]:
        """``GET /backups/{uuid}?size=`` (§5.9): ``{"parts": [url, ...], "part_size": int}``."""
        document = await self.request("GET", f"/backups/{backup_uuid}", params={"size": size})
        if not isinstance(document, dict) or not isinstance(document.get("parts"), list):
            raise RemoteDecodeError(f"upload document of backup {backup_uuid} has no parts")
        if not isinstance(document.get("part_size"), int) or document["part_size"] <= 0:
            raise RemoteDecodeError(f"upload document of backup {backup_uuid} has no positive part_size")
        return document

    async def restore_status(self, backup_uuid: str, successful: bool) -> None:
        await self.request("POST", f"/backups/{backup_uuid}/restore", {"successful": successful})


def _page_data(page: Any) -> list[dict[str, Any]]:
    if not isinstance(page, dict) or not isinstance(page.get("data"), list):
        raise RemoteDecodeError("server list page has no data array")
    return [entry for entry in page["data"] if isinstance(entry, dict)]


def _meta_int(meta: Any, key: str) -> int:
    # Wings decodes meta into Go ints: a string or a negative number aborts the boot.
    value = meta.get(key) if isinstance(meta, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RemoteDecodeError(f"meta.{key} is not a non-negative integer: {value!r}")
    return value
