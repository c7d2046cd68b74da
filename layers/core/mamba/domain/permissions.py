"""The permission catalogue: the only list of permissions, and the built-in roles.

Every route declares exactly one of these (or is public). Tenant permissions are granted
through a membership's role; ``admin.*`` permissions belong to platform admins only;
``account.*`` need only an authenticated caller.
"""

from __future__ import annotations

TENANT_PERMISSIONS: dict[str, str] = {
    "tenant.read": "See the tenant's profile and settings",
    "tenant.update": "Change the tenant's profile and security settings",
    "servers.read": "List and see servers, their logs and status",
    "servers.create": "Create servers",
    "servers.update": "Change a server's name, limits and environment",
    "servers.delete": "Delete servers",
    "servers.power": "Start, stop, restart and kill servers",
    "servers.console": "Open the console and send commands",
    "servers.reinstall": "Reinstall servers",
    "files.read": "List and download files",
    "files.write": "Create, change, upload and delete files",
    "files.sftp": "Sign in to the servers' SFTP with an API key (what it may do there: files.read, files.write)",
    "backups.read": "List and see backups",
    "backups.create": "Create backups",
    "backups.restore": "Restore backups",
    "backups.delete": "Delete, lock and unlock backups",
    "backups.download": "Download backups",
    "schedules.read": "List schedules, their next runs and their run history",
    "schedules.write": "Create, change, delete and run schedules (each task also needs its own permission)",
    "billing.read": "See the subscription, usage, invoices and credits",
    "billing.manage": "Check out, open the billing portal",
    "members.read": "List members and invitations",
    "members.manage": "Invite, change and remove members",
    "roles.read": "List roles",
    "roles.manage": "Create, change and delete custom roles",
    "audit.read": "Read the audit log",
    "operations.read": "Follow long-running operations",
    "webhooks.read": "List the tenant's outgoing webhooks and their delivery log",
    "webhooks.manage": "Create, change, test and delete outgoing webhooks (they receive every subscribed event)",
}

ACCOUNT_PERMISSIONS: dict[str, str] = {
    "account.read": "Read one's own account",
    "account.write": "Change one's own account, 2FA and API keys",
    "api_keys.manage": "Create, list and revoke one's own API keys",
}

ADMIN_PERMISSIONS: dict[str, str] = {
    "admin.nodes": "Manage nodes and allocations, drain a node, see its servers' live state",
    "admin.servers": "List servers across tenants; suspend, unsuspend and force-delete any server",
    "admin.blueprints": "Manage blueprints (eggs)",
    "admin.plans": "Manage plans",
    "admin.tenants": "List and search tenants; see their members and billing; suspend, unsuspend, grant credit, export",
    "admin.users": "List and search users; suspend and unsuspend; grant or revoke admin; reset 2FA",
    "admin.operations": "See every operation and retry a failed one",
    "admin.audit": "Read the platform audit log",
    "admin.application_keys": "Create, list and revoke one's own Pterodactyl application keys (ptla_)",
}

CATALOGUE: dict[str, str] = {**TENANT_PERMISSIONS, **ACCOUNT_PERMISSIONS, **ADMIN_PERMISSIONS}

_READ = frozenset(p for p in TENANT_PERMISSIONS if p.endswith(".read"))

BUILTIN_ROLES: dict[str, frozenset[str]] = {
    "owner": frozenset(TENANT_PERMISSIONS),
    "admin": frozenset(TENANT_PERMISSIONS) - {"tenant.update", "billing.manage"},
    "operator": _READ
    | {
        "servers.power",
        "servers.console",
        "servers.update",
        "servers.reinstall",
        "files.write",
        "files.sftp",
        "backups.create",
        "backups.restore",
        "backups.download",
        "schedules.write",
    },
    # A webhook's URL can carry a credential (a Discord webhook's token): not for viewers.
    "viewer": (_READ - {"audit.read", "billing.read", "members.read", "roles.read", "webhooks.read"}) | {"files.sftp"},
}


def family(permission: str) -> str:
    return permission.split(".", 1)[0]


def is_admin_permission(permission: str) -> bool:
    return permission in ADMIN_PERMISSIONS


def is_account_permission(permission: str) -> bool:
    return permission in ACCOUNT_PERMISSIONS
