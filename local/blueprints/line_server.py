"""A tiny line-based "game server" for the local stack and tests (seeded blueprint ``bp_line_server``).

It prints a done line, echoes every console command, answers a few game-like commands and
stops cleanly on ``stop``. Standard library only; it is written into the server directory
by the blueprint's install script and started with ``python3 line_server.py``.
"""

import os
import sys
import time


def say(line: str) -> None:
    print(line, flush=True)


def main() -> int:
    name = os.environ.get("MOTD", "A Mamba line server")
    port = os.environ.get("SERVER_PORT", "0")
    slots = int(os.environ.get("MAX_PLAYERS", "10") or 10)
    started = time.monotonic()
    say(f"[line-server] starting {name!r} on port {port}")
    say(f"[line-server] Done ({time.monotonic() - started:.3f}s)! Line server ready. Type help for commands.")
    for raw in sys.stdin:
        command = raw.strip()
        if not command:
            continue
        say(f"> {command}")
        verb, _, rest = command.partition(" ")
        if verb == "stop":
            say("[line-server] Stopping the line server")
            return 0
        if verb == "help":
            say("[line-server] commands: help, list, say <text>, echo <text>, uptime, stop")
        elif verb == "list":
            say(f"[line-server] There are 0 of a max of {slots} players online")
        elif verb == "say":
            say(f"[Server] {rest}")
        elif verb == "echo":
            say(rest)
        elif verb == "uptime":
            say(f"[line-server] up {time.monotonic() - started:.1f}s")
        else:
            say(f"[line-server] Unknown command: {verb}")
    say("[line-server] console closed; stopping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
