"""A tiny line-based "game server" for simulator tests: prints a done line, echoes commands, stops on `stop`."""

import os
import sys

print(f"Booting {os.environ.get('SERVER_NAME', 'game')} on port {os.environ.get('SERVER_PORT', '?')}", flush=True)
print("Server ready! Type help for help.", flush=True)
for raw in sys.stdin:
    command = raw.strip()
    if command == "stop":
        print("Stopping the game server", flush=True)
        sys.exit(0)
    if command == "hang":
        # Ignores stdin from now on: only a signal or kill ends it.
        while True:
            sys.stdin.readline() or os.pause()
    print(f"echo: {command}", flush=True)
