"""``HttpWebhookSender``: one webhook POST over urllib3, to an address the panel has checked.

The service resolves the URL's host and refuses unless every address is public
(``mamba.domain.webhooks.check_addresses``); this adapter then connects to one of *those*
addresses, never resolving the name again, so a host that answers differently the second time
(DNS rebinding) cannot steer the POST to an internal address. TLS still verifies the URL's host
name (SNI and certificate), and ``Host`` names it. No redirect is followed (a 3xx is an
answer like any other), no retry is made here (the due-list retries), and the whole exchange is
bounded: connect 3 s, each read 10 s, 15 s in all, at most 64 KiB of the answer read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)

from mamba.domain.webhooks import CONNECT_TIMEOUT, READ_TIMEOUT, TOTAL_TIMEOUT, Request, Response, excerpt

MAX_READ = 64 * 1024
Dial = Callable[[str, int], tuple[str, int]]


def _direct(address: str, port: int) -> tuple[str, int]:
    return address, port


class HttpWebhookSender:
    def __init__(self, dial: Dial = _direct, ca_certs: str | None = None) -> None:
        # ``dial`` maps a checked address to where the socket goes: the identity in production;
        # the API tests map a public test address to their receiver on loopback.
        self._dial = dial
        self._ca_certs = ca_certs

    def post(self, request: Request, addresses: list[str]) -> Response:
        parts = urlsplit(request.url)
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = (parts.hostname or "").rstrip(".")
        started = time.monotonic()
        last = Response(status=None, duration_ms=0, error="connection")
        # A second address only when the first cannot be reached (not after an answer).
        for address in addresses[:2]:
            target, target_port = self._dial(address, port)
            last = self._one(scheme, target, target_port, host, parts.netloc, path, request, started)
            if last.error != "connection":
                return last
        return last

    def _pool(self, scheme: str, address: str, port: int, host: str) -> urllib3.HTTPConnectionPool:
        timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
        if scheme == "https":
            import certifi

            return urllib3.HTTPSConnectionPool(
                address,
                port,
                timeout=timeout,
                retries=False,
                maxsize=1,
                cert_reqs="CERT_REQUIRED",
                ca_certs=self._ca_certs or certifi.where(),
                server_hostname=host,
                assert_hostname=host,
            )
        return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)

    def _one(
        self,
        scheme: str,
        address: str,
        port: int,
        host: str,
        netloc: str,
        path: str,
        request: Request,
        started: float,
    ) -> Response:
        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        pool = self._pool(scheme, address, port, host)
        try:
            answer = pool.urlopen(
                "POST",
                path,
                body=request.body,
                headers={**request.headers, "Host": netloc},
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                chunks: list[bytes] = []
                read = 0
                while read < MAX_READ:
                    if time.monotonic() - started > TOTAL_TIMEOUT:
                        return Response(status=None, duration_ms=elapsed(), error="timeout")
                    chunk = answer.read(min(8192, MAX_READ - read))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    read += len(chunk)
                retry_after = answer.headers.get("Retry-After", "")
                return Response(
                    status=int(answer.status),
                    duration_ms=elapsed(),
                    excerpt=excerpt(b"".join(chunks)),
                    retry_after=int(retry_after) if retry_after.strip().isdigit() else None,
                )
            finally:
                answer.release_conn()
        except NewConnectionError:  # before its base class ConnectTimeoutError: refused, unreachable
            return Response(status=None, duration_ms=elapsed(), error="connection")
        except (ConnectTimeoutError, ReadTimeoutError, TimeoutError):
            return Response(status=None, duration_ms=elapsed(), error="timeout")
        except SSLError:
            return Response(status=None, duration_ms=elapsed(), error="tls")
        except (HTTPError, OSError):
            return Response(status=None, duration_ms=elapsed(), error="connection")
        finally:
            pool.close()
