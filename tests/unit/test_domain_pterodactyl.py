"""Pterodactyl's envelopes, paging, dates, errors and permission table (mamba.domain.pterodactyl)."""

from __future__ import annotations

import pytest

from mamba.domain import pterodactyl as p
from mamba.domain.errors import ConflictError, NotFoundError, ValidationError
from mamba.domain.permissions import CATALOGUE
from tests.contract.pterodactyl_shapes import assert_shape


def test_a_page_is_one_based_and_per_page_is_at_most_100():
    assert p.Page.from_query({}) == p.Page(1, 50)
    assert p.Page.from_query({"page": "3", "per_page": "10"}) == p.Page(3, 10)
    for bad in ({"page": "0"}, {"per_page": "101"}, {"page": "x"}, {"per_page": "-1"}):
        with pytest.raises(ValidationError) as raised:
            p.Page.from_query(bad)
        assert raised.value.details["fields"][0]["field"] in bad


def test_paged_meta_counts_this_page_and_links_its_neighbours():
    items = [{"n": i} for i in range(7)]
    page = p.Page(2, 3)

    shown, total = p.page_of(items, page)
    body = p.paged(shown, page, total, "https://panel/api/application/users")

    assert body["data"] == [{"n": 3}, {"n": 4}, {"n": 5}]
    assert body["meta"]["pagination"] == {
        "total": 7,
        "count": 3,
        "per_page": 3,
        "current_page": 2,
        "total_pages": 3,
        "links": {
            "next": "https://panel/api/application/users?page=3",
            "previous": "https://panel/api/application/users?page=1",
        },
    }


def test_an_empty_list_is_one_page_with_no_links():
    body = p.paged([], p.Page(), 0)

    assert body["meta"]["pagination"]["total_pages"] == 1 and body["meta"]["pagination"]["links"] == {}


def test_dates_are_seconds_with_a_utc_offset():
    assert p.iso("2026-12-05T10:11:12.345678Z") == "2026-12-05T10:11:12+00:00"
    assert p.iso("2026-12-05T11:11:12+01:00") == "2026-12-05T10:11:12+00:00"
    assert p.iso(0) == "1970-01-01T00:00:00+00:00"
    assert p.iso(None) is None and p.iso("not a date") is None


def test_includes_refuse_what_the_route_does_not_offer():
    assert p.includes({"include": "user, node"}, ("user", "node", "egg")) == {"user", "node"}
    with pytest.raises(p.BadIncludeError) as raised:
        p.includes({"include": "user,secrets"}, ("user",))
    assert raised.value.status == 400 and raised.value.details == {"include": ["secrets"]}


def test_filters_keep_only_supported_names_and_sort_reads_a_minus():
    query = {"filter[email]": "ALICE", "filter[password]": "x", "filter[uuid]": "", "sort": "-id"}

    assert p.filters(query, ("email", "uuid")) == {"email": "ALICE"}
    assert p.sort_key(query, ("id", "uuid")) == ("id", True)
    assert p.sort_key({"sort": "secret"}, ("id",)) is None
    assert p.matches("alice@example.org", "ALICE") and not p.matches("bob", "alice")
    assert p.matches(12, "12") and not p.matches(123, "12")


def test_a_validation_failure_is_a_422_entry_per_field_in_pterodactyls_shape():
    error = ValidationError(
        "bad",
        {"fields": [{"field": "body.limits.memory", "message": "must be at least 0", "type": "greater_than_equal"}]},
    )

    body = p.error_body(error)

    assert p.error_status(error) == 422
    assert_shape("error_validation", body)
    assert body["errors"][0]["meta"] == {"source_field": "limits.memory", "rule": "greater_than_equal"}
    assert body["errors"][0]["source"] == {"field": "limits.memory"}
    assert body["errors"][0]["status"] == "422"


@pytest.mark.parametrize(
    ("error", "fixture", "status"),
    [(NotFoundError("gone", {}), "error_not_found", "404"), (ConflictError("busy", {}), None, "409")],
)
def test_other_errors_are_one_entry_with_a_string_status(error, fixture, status):
    body = p.error_body(error)

    assert body["errors"][0]["status"] == status and body["errors"][0]["detail"] == error.message
    if fixture:
        assert_shape(fixture, body)


def test_every_mapped_permission_is_in_the_catalogue_and_databases_map_to_nothing():
    mapped = {m for m in p.PERMISSION_MAP.values() if m is not None}

    assert mapped <= set(CATALOGUE)
    assert [k for k, m in p.PERMISSION_MAP.items() if m is None] == [
        f"database.{k}" for k in ("create", "read", "update", "delete", "view_password")
    ]


def test_permission_keys_round_trip_through_mambas_catalogue():
    keys = p.pterodactyl_permissions(frozenset({"servers.power", "files.read"}))

    assert keys == ["control.start", "control.stop", "control.restart", "file.read", "file.read-content"]
    assert p.mamba_permissions(["control.start", "database.read"]) == {"servers.power"}
    with pytest.raises(ValidationError):
        p.mamba_permissions(["control.fly"])


def test_the_permissions_document_has_pterodactyls_shape():
    assert_shape("client_permissions", p.permissions_document())


def test_an_application_right_allows_reads_or_writes_as_granted():
    assert p.right_allows("read", write=False) and not p.right_allows("read", write=True)
    assert p.right_allows("read-write", write=True) and not p.right_allows("none", write=False)
    assert not p.right_allows(None, write=False)
