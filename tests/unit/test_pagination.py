"""Opaque list cursors and page requests."""

from __future__ import annotations

import base64
import json

import pytest

from mamba.adapters.dynamo.pagination import CursorCodec
from mamba.domain.errors import ValidationError
from mamba.domain.pages import MAX_LIMIT, PageRequest

KEY = {"pk": {"S": "TENANT#tn_a"}, "sk": {"S": "MEMBER#usr_b"}}
SECRET = "a-signing-secret-that-is-long-enough-0123456789"


def test_cursor_round_trips_when_decoded_in_its_own_scope():
    codec = CursorCodec(SECRET)

    cursor = codec.encode(KEY, "members:tn_a")

    assert codec.decode(cursor, "members:tn_a") == KEY
    assert "TENANT#" not in cursor


def test_cursor_is_none_when_there_is_no_next_page():
    codec = CursorCodec(SECRET)

    assert codec.encode(None, "x") is None
    assert codec.decode(None, "x") is None
    assert codec.decode("", "x") is None


def test_cursor_is_refused_when_used_in_another_scope():
    codec = CursorCodec(SECRET)

    with pytest.raises(ValidationError):
        codec.decode(codec.encode(KEY, "members:tn_a"), "members:tn_b")


def test_cursor_is_refused_when_its_key_is_replaced():
    # Given a cursor, and the same MAC over a key pointing into another tenant
    codec = CursorCodec(SECRET)
    _, _, mac = codec.encode(KEY, "s").partition(".")
    forged_key = {"pk": {"S": "TENANT#tn_b"}, "sk": {"S": "MEMBER#usr_b"}}
    payload = base64.urlsafe_b64encode(json.dumps(forged_key).encode()).decode().rstrip("=")

    with pytest.raises(ValidationError) as caught:
        codec.decode(f"{payload}.{mac}", "s")
    assert caught.value.details["fields"][0]["field"] == "cursor"


def test_cursor_is_refused_when_made_with_another_secret():
    cursor = CursorCodec(SECRET).encode(KEY, "s")

    with pytest.raises(ValidationError):
        CursorCodec(SECRET + "x").decode(cursor, "s")


@pytest.mark.parametrize("garbage", ["nodot", ".", "abc.", ".abc", "a.b", "!!!.???", "x" * 50 + "." + "y" * 22])
def test_cursor_is_refused_when_malformed(garbage):
    with pytest.raises(ValidationError):
        CursorCodec(SECRET).decode(garbage, "s")


def test_cursor_with_a_valid_mac_but_not_a_key_is_refused():
    # A codec only signs what it encodes, but the shape is checked anyway.
    codec = CursorCodec(SECRET)
    cursor = codec.encode({"pk": {"S": "x"}}, "s")
    assert codec.decode(cursor, "s") == {"pk": {"S": "x"}}
    bad = codec.encode({"pk": {"BOOL": True}}, "s")  # type: ignore[dict-item]

    with pytest.raises(ValidationError):
        codec.decode(bad, "s")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, (50, None)),
        ({"limit": "7"}, (7, None)),
        ({"limit": " 100 ", "cursor": "c"}, (100, "c")),
        ({"cursor": ""}, (50, None)),
    ],
)
def test_page_request_reads_limit_and_cursor(query, expected):
    page = PageRequest.from_query(query)

    assert (page.limit, page.cursor) == expected


@pytest.mark.parametrize("limit", ["0", str(MAX_LIMIT + 1), "-3", "2.5", "many"])
def test_page_request_is_400_naming_limit_when_out_of_range(limit):
    with pytest.raises(ValidationError) as caught:
        PageRequest.from_query({"limit": limit})
    assert caught.value.details["fields"][0]["field"] == "limit"


def test_page_request_is_400_when_the_cursor_is_huge():
    with pytest.raises(ValidationError):
        PageRequest.from_query({"cursor": "c" * 5000})
