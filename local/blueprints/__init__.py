"""The Wings simulator's own blueprints, seeded by the local stack (not by a production migration).

* ``bp_line_server``: a small line-based "game server" in Python (``line_server.py`` next to
  this file). Its install script writes that file into ``/mnt/server``; it prints a done line,
  echoes console commands and stops on ``stop``.
* ``bp_command_runner``: runs any shell command given in ``COMMAND``; stopped with SIGTERM.

They are ordinary blueprints as far as the panel knows: nothing in a stored blueprint says
where it may run. The simulator decides that itself: it runs the install scripts of these
ids (its allowlist, ``SIMULATOR_BLUEPRINT_IDS``, matched on the configuration document's
``egg.id``) and of any egg id it is told to trust on its command line.

This module imports only the standard library, so the simulator can read the ids without the
panel's code; the blueprints themselves are built in ``local.blueprints.seed``.
"""

from __future__ import annotations

LINE_SERVER_ID = "bp_line_server"
COMMAND_RUNNER_ID = "bp_command_runner"

# The panel mints blueprint ids itself (``bp_`` and a random token that never holds a second
# ``_``) and takes none from the admin API, so these fixed ids can only come from the local seed.
SIMULATOR_BLUEPRINT_IDS = frozenset({LINE_SERVER_ID, COMMAND_RUNNER_ID})
