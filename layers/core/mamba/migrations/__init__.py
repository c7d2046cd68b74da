"""Versioned data migrations for the main table, and the local demo seed.

* ``versions/mNNNN_<name>.py``: one migration per module, with ``version``, ``description``,
  ``up(ctx)`` and ``down(ctx)``; run in version order by ``runner.migrate_up`` and rolled back
  newest first by ``runner.migrate_down``. See docs/operations.md for how to write one.
* ``seed.py``: the local demo data (an admin and the Demo tenant), run only on request
  (``mamba seed``), never as a migration, and refused in deployed mode.

Importing this package imports nothing but the standard library.
"""
