"""Pterodactyl's door: /api/client and /api/application onto the same services
(mamba.pterodactyl_web; docs/pterodactyl-api.md). One module per area; app.py registers
``BLUEPRINTS``."""

from functions.pterodactyl import (
    app_nests,
    app_nodes,
    app_users,
    application_servers,
    client_account,
)

BLUEPRINTS = (
    client_account.bp,
    app_users.bp,
    app_nodes.bp,
    app_nests.bp,
    application_servers.bp,
)
