"""Pterodactyl's door: /api/client and /api/application onto the same services
(mamba.pterodactyl_web; docs/pterodactyl-api.md). One module per area; app.py registers
``BLUEPRINTS``."""

from functions.pterodactyl import (
    client_account,
    client_backups,
    client_databases,
    client_files,
    client_schedules,
    client_subusers,
)

BLUEPRINTS = (
    client_account.bp,
    client_files.bp,
    client_databases.bp,
    client_backups.bp,
    client_schedules.bp,
    client_subusers.bp,
)
