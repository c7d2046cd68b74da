"""A stand-in Pterodactyl Wings node for local runs and tests (``python -m local.wings_sim --config F``).

It reads the node's ``config.yml`` (wings-contract.md §6), boots against the panel's remote API
(§5.11), serves the daemon API (§2) with Wings' auth, statuses and error bodies, accepts Wings' JWTs
(§3) and speaks its websocket protocol (§4). Servers are real local processes run from the blueprint's
startup command in their own directory under ``system.data``; nothing is written outside it.
See docs/wings-simulator.md.
"""

VERSION = "1.11.11"
