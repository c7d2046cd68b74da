"""Pterodactyl's door: /api/client and /api/application onto the same services
(mamba.pterodactyl_web; docs/pterodactyl-api.md). One module per area; app.py registers
``BLUEPRINTS``."""

from functions.pterodactyl import (
    app_nests,
    app_nodes,
    app_users,
    application_servers,
    client_account,
    client_backups,
    client_databases,
    client_files,
    client_schedules,
    client_servers,
    client_subusers,
)

BLUEPRINTS = (
    app_nests.bp,
    app_nodes.bp,
    app_users.bp,
    application_servers.bp,
    client_account.bp,
    client_backups.bp,
    client_databases.bp,
    client_files.bp,
    client_schedules.bp,
    client_servers.bp,
    client_subusers.bp,
)
