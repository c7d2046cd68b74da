"""What the application API's areas share: an object by its integer id, a 404 as Pterodactyl
words it, a uniqueness failure as its 422, and a whole list read page by page."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mamba.domain.errors import NotFoundError, ValidationError
from mamba.domain.pages import Page as CursorPage
from mamba.domain.pages import PageRequest
from mamba.domain.pterodactyl import IdRef, Page, filters, matches, paged, sort_key
from mamba.ports import PteroIds

NOT_FOUND = "The requested resource could not be found on the server."
# A whole list is read to page and count it as Pterodactyl does; this bounds the reads.
MAX_LIST_PAGES = 200


def not_found(kind: str, reference: object) -> NotFoundError:
    return NotFoundError(NOT_FOUND, {kind: str(reference)})


def number_of(value: str) -> int | None:
    """A path's integer id; anything else finds nothing."""
    text = value.strip()
    return int(text) if text.isdigit() and len(text) < 16 else None


def by_number(ids: PteroIds, kind: str, value: str) -> IdRef:
    """The object behind ``value`` (an integer id). Raises NotFoundError."""
    number = number_of(value)
    found = ids.by_number(kind, number) if number is not None else None
    if found is None:
        raise not_found(kind, value)
    return found


def taken(field: str, what: str = "has already been taken") -> ValidationError:
    """Laravel's ``unique`` failure: a 422 naming the field."""
    return ValidationError(f"The {field} {what}.", {"fields": [{"field": field, "message": what, "type": "unique"}]})


def invalid(field: str, message: str, rule: str = "invalid") -> ValidationError:
    return ValidationError(f"The {field} {message}.", {"fields": [{"field": field, "message": message, "type": rule}]})


def read_all[T](fetch: Callable[[PageRequest], CursorPage[T]]) -> list[T]:
    """Every item of a cursor-paged list (one Query per 100)."""
    items: list[T] = []
    cursor: str | None = None
    for _ in range(MAX_LIST_PAGES):
        page = fetch(PageRequest(100, cursor))
        items.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    return items


def listing(
    rows: Sequence[dict[str, Any]],
    query: Mapping[str, str],
    *,
    filterable: Sequence[str],
    sortable: Sequence[str],
    base_url: str,
    exact: Sequence[str] = (),
) -> dict[str, Any]:
    """Filter (``?filter[x]=``, partial and case-insensitive unless ``exact``), sort
    (``?sort=[-]x``, by id otherwise) and page Pterodactyl objects (their ``attributes``)."""
    page = Page.from_query(query)
    wanted = filters(query, filterable)
    chosen = [
        row
        for row in rows
        if all(
            (str(row["attributes"].get(name)) == value)
            if name in exact
            else matches(row["attributes"].get(name), value)
            for name, value in wanted.items()
        )
    ]
    order = sort_key(query, sortable) or ("id", False)
    chosen.sort(key=lambda row: _sortable(row["attributes"].get(order[0])), reverse=order[1])
    return paged(page.slice(chosen), page, len(chosen), base_url)


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value))
