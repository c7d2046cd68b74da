"""Pterodactyl's door onto the same use cases /v1 calls: one module per area (docs/pterodactyl-api.md)."""
