"""Pterodactyl's API as a second door: translation and use cases per area, calling the same
services /v1 uses (docs/pterodactyl-api.md). No boto3 or pynamodb here."""
