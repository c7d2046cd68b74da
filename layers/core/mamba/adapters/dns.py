"""``SocketHostResolver``: the system resolver behind the ``HostResolver`` port.

Only ``files/pull`` uses it, to check that a URL's host resolves to public addresses before a
node is told to fetch it (``mamba.domain.pull_targets``). Tests inject a fake, so none of them
needs DNS.
"""

from __future__ import annotations

import socket


class SocketHostResolver:
    def resolve(self, host: str, port: int) -> list[str]:
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            # No such name (or one IDNA cannot encode): nothing to fetch from.
            return []
        # sockaddr[0] is the address text; an IPv6 one may carry a scope ("fe80::1%eth0").
        return sorted({str(info[4][0]) for info in infos})
