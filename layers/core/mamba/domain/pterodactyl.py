# ruff: noqa: E501 - the permission descriptions below are served verbatim; one line each reads best
"""Pterodactyl's API as a second door onto the panel: its envelopes, paging, dates, error shape
and the one table that maps its per-server permission keys to Mamba's catalogue.

Standard library only. The door itself (key checks, routing) is ``mamba.pterodactyl_web``; the
integer ids every Pterodactyl object carries are ``mamba.ports.PteroIds``. docs/pterodactyl-api.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mamba.domain.errors import DomainError, ValidationError

# --- keys -----------------------------------------------------------------------------------

CLIENT_KEY_PREFIX = "ptlc_"
APPLICATION_KEY_PREFIX = "ptla_"

# The resources an application key holds rights on, as Pterodactyl's r_<resource> columns.
APPLICATION_RESOURCES: tuple[str, ...] = ("users", "nodes", "allocations", "locations", "servers", "nests", "eggs")
RIGHTS: tuple[str, ...] = ("none", "read", "read-write")


def right_allows(granted: str | None, write: bool) -> bool:
    """Whether an application key's right on a resource allows a read (or a write)."""
    if granted == "read-write":
        return True
    return granted == "read" and not write


# --- the object kinds that carry integer ids ------------------------------------------------

ID_KINDS: tuple[str, ...] = (
    "user",
    "server",
    "node",
    "allocation",
    "location",
    "nest",
    "egg",
    "schedule",  # scope: the server's uuid
    "task",  # scope: the schedule's id
)

# --- envelopes ------------------------------------------------------------------------------


def item(
    object_name: str, attributes: Mapping[str, Any], relationships: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One object: ``{"object": ..., "attributes": {...}}``; relationships sit inside the attributes,
    as Pterodactyl's serializer puts them."""
    attrs = dict(attributes)
    if relationships:
        attrs["relationships"] = dict(relationships)
    return {"object": object_name, "attributes": attrs}


def plain_list(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A list without paging (a relationship, or a route Pterodactyl does not page)."""
    return {"object": "list", "data": list(items)}


DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page:
    """``?page=&per_page=``: 1-based, per_page from 1 to 100."""

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, default: int = DEFAULT_PER_PAGE) -> Page:
        return cls(
            page=_whole(query, "page", 1, 1, 1_000_000), per_page=_whole(query, "per_page", default, 1, MAX_PER_PAGE)
        )

    def slice[T](self, items: Sequence[T]) -> list[T]:
        start = (self.page - 1) * self.per_page
        return list(items[start : start + self.per_page])


def _whole(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = (query.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValidationError(
            f"The {name} must be a whole number from {low} to {high}.",
            {"fields": [{"field": name, "message": f"must be {low} to {high}", "type": "integer"}]},
        )
    return int(raw)


def paged(items: Sequence[Mapping[str, Any]], page: Page, total: int, base_url: str = "") -> dict[str, Any]:
    """A page of a list with Pterodactyl's ``meta.pagination`` (``items`` is this page only)."""
    total_pages = max(1, math.ceil(total / page.per_page)) if total else 1
    links: dict[str, str] = {}
    if base_url and page.page < total_pages:
        links["next"] = f"{base_url}?page={page.page + 1}"
    if base_url and page.page > 1:
        links["previous"] = f"{base_url}?page={page.page - 1}"
    return {
        "object": "list",
        "data": list(items),
        "meta": {
            "pagination": {
                "total": total,
                "count": len(items),
                "per_page": page.per_page,
                "current_page": page.page,
                "total_pages": total_pages,
                "links": links,
            }
        },
    }


def page_of[T](items: Sequence[T], page: Page) -> tuple[list[T], int]:
    """This page's items of a whole list, and the list's total."""
    return page.slice(items), len(items)


# --- includes, filters, sort ----------------------------------------------------------------


def includes(query: Mapping[str, str], allowed: Sequence[str]) -> frozenset[str]:
    """``?include=a,b``: the named relationships; one Pterodactyl does not offer is a 400 as there."""
    asked = {part.strip() for part in (query.get("include") or "").split(",") if part.strip()}
    unknown = sorted(asked - set(allowed))
    if unknown:
        raise BadIncludeError(
            f"Requested include {unknown[0]!r} is not allowed. Allowed includes are: {', '.join(allowed)}.",
            {"include": unknown},
        )
    return frozenset(asked)


class BadIncludeError(DomainError):
    status = 400
    code = "BAD_INCLUDE"


def filters(query: Mapping[str, str], allowed: Sequence[str]) -> dict[str, str]:
    """``?filter[name]=value`` for the filters a route supports (others are ignored, as there)."""
    found: dict[str, str] = {}
    for key, value in query.items():
        if key.startswith("filter[") and key.endswith("]"):
            name = key[len("filter[") : -1]
            if name in allowed and value != "":
                found[name] = value
    return found


def sort_key(query: Mapping[str, str], allowed: Sequence[str]) -> tuple[str, bool] | None:
    """``?sort=field`` or ``?sort=-field`` (descending), for the fields a route sorts by."""
    raw = (query.get("sort") or "").strip()
    if not raw:
        return None
    descending = raw.startswith("-")
    name = raw.lstrip("-")
    return (name, descending) if name in allowed else None


def matches(value: Any, wanted: str) -> bool:
    """Pterodactyl's filters are partial and case-insensitive (``LIKE %x%``), ids exact."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) == wanted
    return wanted.lower() in str(value or "").lower()


# --- dates ----------------------------------------------------------------------------------


def iso(value: str | int | float | datetime | None) -> str | None:
    """A date as Pterodactyl sends it: ``2024-01-31T12:00:00+00:00`` (seconds, with offset)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


# --- errors ---------------------------------------------------------------------------------

# Pterodactyl names its errors after the Symfony/Laravel exception class that raised them.
_CODES: dict[int, str] = {
    400: "BadRequestHttpException",
    401: "AuthenticationException",
    402: "HttpException",
    403: "AccessDeniedHttpException",
    404: "NotFoundHttpException",
    405: "MethodNotAllowedHttpException",
    409: "ConflictHttpException",
    412: "PreconditionFailedHttpException",
    413: "HttpException",
    415: "UnsupportedMediaTypeHttpException",
    422: "ValidationException",
    429: "TooManyRequestsHttpException",
    500: "HttpException",
    501: "HttpException",
    502: "HttpException",
    503: "ServiceUnavailableHttpException",
}


class NotImplementedHereError(DomainError):
    """A Pterodactyl route whose capability Mamba does not have (databases)."""

    status = 501
    code = "NOT_IMPLEMENTED"


def error_status(error: DomainError) -> int:
    """Pterodactyl answers a failed validation 422 (Mamba: 400 with ``details.fields``)."""
    if isinstance(error, ValidationError) or (error.status == 400 and (error.details or {}).get("fields")):
        return 422
    return error.status


def error_body(error: DomainError) -> dict[str, Any]:
    """``{"errors": [{"code", "status", "detail"}]}``; a validation failure has one entry per field,
    each with ``source.field`` and ``meta.source_field``/``meta.rule`` as Pterodactyl's handler."""
    status = error_status(error)
    code = _CODES.get(status, "HttpException")
    fields = (error.details or {}).get("fields") if status == 422 else None
    if fields:
        entries = []
        for field in fields:
            name = _pterodactyl_field(str(field.get("field") or ""))
            rule = str(field.get("type") or "invalid")
            entries.append(
                {
                    "code": code,
                    "status": str(status),
                    "detail": f"The {name.replace('_', ' ')} field {field.get('message') or 'is invalid'}.",
                    "meta": {"source_field": name, "rule": rule},
                    "source": {"field": name},
                }
            )
        return {"errors": entries}
    return {"errors": [{"code": code, "status": str(status), "detail": error.message}]}


def _pterodactyl_field(name: str) -> str:
    """A pydantic location (``body.limits.memory``) as Pterodactyl names the field."""
    return name.removeprefix("body.") or "body"


# --- per-server permission keys -------------------------------------------------------------

# The one table: each of Pterodactyl's per-server permission keys, grouped as its
# ``GET /api/client/permissions`` serves them, and the Mamba catalogue permission it stands for
# (None: a capability Mamba does not have, so nobody holds it). A subuser's Pterodactyl keys are
# the ones whose Mamba permission their role grants; the client door's routes each declare the
# Mamba permission, so both doors refuse the same callers.
PERMISSION_GROUPS: dict[str, tuple[str, dict[str, tuple[str, str | None]]]] = {
    "websocket": (
        "Allows the user to connect to the server websocket, giving them access to view console output and realtime server stats.",
        {
            "connect": (
                "Allows a user to connect to the websocket instance for a server to stream the console.",
                "servers.console",
            )
        },
    ),
    "control": (
        "Permissions that control a user's ability to control the power state of a server, or send commands.",
        {
            "console": ("Allows a user to send commands to the server instance via the console.", "servers.console"),
            "start": ("Allows a user to start the server if it is stopped.", "servers.power"),
            "stop": ("Allows a user to stop a server if it is running.", "servers.power"),
            "restart": (
                "Allows a user to perform a server restart. This allows them to start the server if it is offline, but not put the server in a completely stopped state.",
                "servers.power",
            ),
        },
    ),
    "user": (
        "Permissions that allow a user to manage other subusers on a server. They will never be able to edit their own account, or assign permissions they do not have themselves.",
        {
            "create": ("Allows a user to create new subusers for the server.", "members.manage"),
            "read": ("Allows the user to view subusers and their permissions for the server.", "members.read"),
            "update": ("Allows a user to modify other subusers.", "members.manage"),
            "delete": ("Allows a user to delete a subuser from the server.", "members.manage"),
        },
    ),
    "file": (
        "Permissions that control a user's ability to modify the filesystem for this server.",
        {
            "create": (
                "Allows a user to create additional files and folders via the Panel or direct upload.",
                "files.write",
            ),
            "read": (
                "Allows a user to view the contents of a directory, but not view the contents of or download files.",
                "files.read",
            ),
            "read-content": (
                "Allows a user to view the contents of a given file. This will also allow the user to download files.",
                "files.read",
            ),
            "update": ("Allows a user to update the contents of an existing file or directory.", "files.write"),
            "delete": ("Allows a user to delete files or directories.", "files.write"),
            "archive": (
                "Allows a user to archive the contents of a directory as well as decompress existing archives on the system.",
                "files.write",
            ),
            "sftp": (
                "Allows a user to connect to SFTP and manage server files using the other assigned file permissions.",
                "files.sftp",
            ),
        },
    ),
    "backup": (
        "Permissions that control a user's ability to generate and manage server backups.",
        {
            "create": ("Allows a user to create new backups for this server.", "backups.create"),
            "read": ("Allows a user to view all backups that exist for this server.", "backups.read"),
            "delete": ("Allows a user to remove backups from the system.", "backups.delete"),
            "download": (
                "Allows a user to download a backup for the server. Danger: this allows a user to access all files for the server in the backup.",
                "backups.download",
            ),
            "restore": (
                "Allows a user to restore a backup for the server. Danger: this allows the user to delete all of the server files in the process.",
                "backups.restore",
            ),
        },
    ),
    "allocation": (
        "Permissions that control a user's ability to modify the port allocations for this server.",
        {
            "read": (
                "Allows a user to view all allocations currently assigned to this server. Users with any level of access to this server can always view the primary allocation.",
                "servers.read",
            ),
            "create": ("Allows a user to assign additional allocations to the server.", "servers.update"),
            "update": (
                "Allows a user to change the primary server allocation and attach notes to each allocation.",
                "servers.update",
            ),
            "delete": ("Allows a user to delete an allocation from the server.", "servers.update"),
        },
    ),
    "startup": (
        "Permissions that control a user's ability to view this server's startup parameters.",
        {
            "read": ("Allows a user to view the startup variables for a server.", "servers.read"),
            "update": ("Allows a user to modify the startup variables for the server.", "servers.update"),
            "docker-image": (
                "Allows a user to modify the Docker image used when running the server.",
                "servers.update",
            ),
        },
    ),
    "database": (
        "Permissions that control a user's access to the database management for this server.",
        {
            "create": ("Allows a user to create a new database for this server.", None),
            "read": ("Allows a user to view the database associated with this server.", None),
            "update": (
                "Allows a user to rotate the password on a database instance. If the user does not have the view_password permission they will not see the updated password.",
                None,
            ),
            "delete": ("Allows a user to remove a database instance from this server.", None),
            "view_password": (
                "Allows a user to view the password associated with a database instance for this server.",
                None,
            ),
        },
    ),
    "schedule": (
        "Permissions that control a user's access to the schedule management for this server.",
        {
            "create": ("Allows a user to create new schedules for this server.", "schedules.write"),
            "read": (
                "Allows a user to view schedules and the tasks associated with them for this server.",
                "schedules.read",
            ),
            "update": ("Allows a user to update schedules and schedule tasks for this server.", "schedules.write"),
            "delete": ("Allows a user to delete schedules for this server.", "schedules.write"),
        },
    ),
    "settings": (
        "Permissions that control a user's access to the settings for this server.",
        {
            "rename": ("Allows a user to rename this server and change the description of it.", "servers.update"),
            "reinstall": ("Allows a user to trigger a reinstall of this server.", "servers.reinstall"),
        },
    ),
    "activity": (
        "Permissions that control a user's access to the server activity logs.",
        {"read": ("Allows a user to view the activity logs for the server.", "servers.read")},
    ),
}

PERMISSION_MAP: dict[str, str | None] = {
    f"{group}.{key}": mamba for group, (_, keys_) in PERMISSION_GROUPS.items() for key, (_, mamba) in keys_.items()
}


def pterodactyl_permissions(granted: frozenset[str] | set[str]) -> list[str]:
    """The Pterodactyl keys a holder of Mamba's ``granted`` permissions has (in the table's order)."""
    return [key for key, mamba in PERMISSION_MAP.items() if mamba is not None and mamba in granted]


def mamba_permissions(keys: Sequence[str]) -> frozenset[str]:
    """The Mamba permissions Pterodactyl ``keys`` ask for; an unknown key is a 422 naming it."""
    unknown = [k for k in keys if k not in PERMISSION_MAP]
    if unknown:
        raise ValidationError(
            f"The permission {unknown[0]!r} is not a Pterodactyl permission.",
            {
                "fields": [
                    {"field": "permissions", "message": f"contains an unknown permission {unknown[0]}", "type": "in"}
                ]
            },
        )
    return frozenset(m for k in keys if (m := PERMISSION_MAP[k]) is not None)


def permissions_document() -> dict[str, Any]:
    """``GET /api/client/permissions``: every group, its description and its keys."""
    return item(
        "system_permissions",
        {
            "permissions": {
                group: {"description": description, "keys": {key: text for key, (text, _) in keys_.items()}}
                for group, (description, keys_) in PERMISSION_GROUPS.items()
            }
        },
    )


@dataclass(frozen=True)
class IdRef:
    """A Mamba object as Pterodactyl's clients know it: its integer id and what it stands for."""

    kind: str
    ref: str  # the Mamba id
    number: int
    scope: str | None = None  # a server's tenant, an allocation's node
    external_id: str | None = None


def short_identifier(server_uuid: str) -> str:
    """A server's 8-character identifier, as Pterodactyl derives it from the uuid."""
    return server_uuid[:8]
