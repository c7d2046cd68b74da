"""Pterodactyl's door: /api/client and /api/application onto the same services
(mamba.pterodactyl_web; docs/pterodactyl-api.md). One module per area; app.py registers
``BLUEPRINTS``."""

from functions.pterodactyl import (
    app_nests,
    app_nodes,
    app_users,
    application_servers,
    client_account,
    client_servers,
)

BLUEPRINTS = (
    app_nests.bp,
    app_nodes.bp,
    app_users.bp,
    application_servers.bp,
    client_account.bp,
    client_servers.bp,
)
