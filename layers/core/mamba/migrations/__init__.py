"""Versioned data migrations for the main table, and the local demo seed.

* ``versions/mNNNN_<name>.py``: one migration per module, with ``version``, ``description``,
  ``up(ctx)`` and ``down(ctx)``; run in version order by ``runner.MigrationRunner`` (wired by
  ``mamba.cli.migrate_up`` / ``migrate_down``). See docs/operations.md for how to write one.
* ``model.py``: the migration types, the context a migration receives, the ledger protocol.
* ``seed.py``: the local demo data (an admin and the Demo tenant), run only on request
  (``mamba seed``), never as a migration, and refused in deployed mode.

Importing this package imports nothing but the standard library.
"""
