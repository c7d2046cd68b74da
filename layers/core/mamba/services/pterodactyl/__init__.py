"""Pterodactyl's door onto the same use cases as /v1: one module per area translates
Pterodactyl's requests and shapes (docs/pterodactyl-api.md) and calls the services /v1 uses."""
