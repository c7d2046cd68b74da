"""Which URLs a node may be told to download (``files/pull``), decided by the panel (stdlib only).

Wings refuses internal addresses itself, at connect time, and never follows redirects
(pterodactyl/wings ``router/downloader``: a dialer that checks the connected address against
loopback, link-local, RFC 1918, ``fc00::/7``; ``CheckRedirect`` returns ``ErrUseLastResponse``).
Its list misses some ranges (``0.0.0.0``, ``100.64.0.0/10``, multicast, NAT64 prefixes) and an
older or modified daemon may check less, so the panel decides first, and the node's check is the
second line:

* ``parse`` refuses what is wrong with the URL itself: a scheme other than http(s), credentials
  (``user:pass@``), no host, an IPv4 address spelled in decimal, octal or hex
  (``2130706433``, ``0x7f.1``, ``0177.0.0.1``: resolvers and URL libraries read these
  differently, so a check on one reading proves nothing about another);
* ``refusal`` says why one address is not public (loopback, private, link-local and the cloud
  metadata addresses, multicast, unspecified, reserved, shared, and the IPv4 forms embedded in
  IPv6: mapped, 6to4, Teredo, NAT64); every address a host resolves to must be public.

Each refusal is ``PullUrlRefusedError`` (400 ``PULL_URL_REFUSED``) with ``details.reason``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from mamba.domain.errors import PullUrlRefusedError

MAX_URL: Final = 2048
SCHEMES: Final = ("http", "https")
# The instance metadata services of the clouds a node may run on (AWS IPv4 and IPv6, the
# link-local one most clouds share). Named separately so the refusal says so.
METADATA: Final = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not global, not "private" in 3.12
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# One inet_aton part: hex (0x..), octal (leading 0) or decimal.
_NUMERIC_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class PullTarget:
    url: str
    host: str  # lowercase, without brackets or a trailing dot
    port: int
    address: Address | None  # set when the host is an IP literal (nothing to resolve)


def refused(reason: str, message: str, **details: object) -> PullUrlRefusedError:
    return PullUrlRefusedError(message, {"field": "url", "reason": reason, **details})


def _part_value(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        return int(part, 8)
    return int(part)


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """The address the C library's ``inet_aton`` reads from ``host`` (1 to 4 dot-separated
    decimal, octal or hex parts, the last one filling the remaining bytes), or None."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.match(p) for p in parts):
        return None
    values = [_part_value(p) for p in parts]
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    number = number * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(number)


def parse(url: str) -> PullTarget:
    """The URL's host and port, or PullUrlRefusedError for a URL the node must never fetch."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise refused("invalid", f"url must be an http(s) URL of at most {MAX_URL} characters.")
    if _CONTROL.search(url):
        raise refused("invalid", "url must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise refused("invalid", "url is not a valid URL.") from exc
    if parts.scheme.lower() not in SCHEMES:
        raise refused("scheme", "url must use http or https.", scheme=parts.scheme.lower()[:20])
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise refused("credentials", "url must not carry a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise refused("invalid", "url must name a host.")
    if port is None:
        port = 443 if parts.scheme.lower() == "https" else 80
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is None:
        encoded = _inet_aton(host)
        if encoded is not None:
            raise refused(
                "encoded_address",
                "url names an IPv4 address in a non-standard form; write it as four decimal numbers.",
                address=str(encoded),
            )
        if host.replace(".", "").isdigit():
            raise refused("invalid", "url has a numeric host that is not an address.")
    return PullTarget(url=url, host=host, port=port, address=literal)


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    for prefix in _NAT64:
        if address in prefix:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: Address) -> str | None:
    """Why ``address`` is not a public destination (a short reason), or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "link_local"
        embedded = _embedded_v4(address)
        if embedded is not None:
            inner = refusal(embedded)
            return f"embedded_{inner}" if inner else None
    if address in METADATA:
        return "cloud_metadata"
    if address.is_loopback:
        return "loopback"
    if address.is_unspecified:
        return "unspecified"
    if address.is_link_local:
        return "link_local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not_public"
    return None


def check_addresses(host: str, addresses: list[str]) -> None:
    """PullUrlRefusedError unless ``host`` resolved, and to public addresses only."""
    if not addresses:
        raise refused("unresolvable", "url's host does not resolve.", host=host[:253])
    for text in addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError as exc:
            raise refused("unresolvable", "url's host resolved to something that is not an address.") from exc
        reason = refusal(address)
        if reason:
            raise refused(
                reason,
                "url resolves to an address that is not public; the node may only download from the internet.",
                host=host[:253],
                address=str(address),
            )
