"""The tenant export (mamba.services.tenant_export) on fakes, and the record filter that keeps secrets home."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mamba.domain.accounts import User
from mamba.domain.errors import NotFoundError
from mamba.domain.tenancy import Membership, Tenant
from mamba.services import tenant_export
from tests.fakes import FakeAdminRepository


class RecordingStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_json(self, key: str, body: bytes) -> None:
        self.objects[key] = body

    def download_url(self, key: str, filename: str, seconds: int) -> str:
        return f"https://exports.example/{key}?expires={seconds}&name={filename}"


class StaticRecords:
    def __init__(self, found: dict[str, list[dict[str, Any]]]) -> None:
        self.found = found
        self.asked: list[str] = []

    def records(self, tenant_id: str) -> dict[str, list[dict[str, Any]]]:
        self.asked.append(tenant_id)
        return self.found


def world() -> FakeAdminRepository:
    repo = FakeAdminRepository()
    repo.users.add(User(id="usr_o", email="o@example.org", created_at="2027-01-01T00:00:00Z"))
    repo.tenancy.add_with_owner(
        Tenant("tn_a", "Games", "2027-01-01T00:00:00Z"), Membership("tn_a", "usr_o", "owner", "2027-01-01T00:00:00Z")
    )
    return repo


def test_the_archive_is_written_once_and_linked_with_its_counts():
    store, records = RecordingStore(), StaticRecords({"tenant": [{"tenant_id": "tn_a"}], "membership": [{}, {}]})

    done = tenant_export.export_tenant(
        world(), records, store, "tn_a", "usr_root", now=lambda: "2027-02-03T04:05:06Z", ids=lambda p: f"{p}_1"
    )

    [(key, body)] = store.objects.items()
    archive = json.loads(body)
    assert key == "tenants/tn_a/2027-02-03T040506Z-exp_1.json" == done.key
    assert (archive["format"], archive["tenant_id"], archive["exported_by"]) == (
        tenant_export.FORMAT,
        "tn_a",
        "usr_root",
    )
    assert done.counts == {"membership": 2, "tenant": 1} and done.size_bytes == len(body)
    assert done.url.startswith(f"https://exports.example/{key}") and done.expires_in == tenant_export.LINK_SECONDS
    assert "tenant-tn_a-2027-02-03.json" in done.url


def test_an_unknown_tenant_is_404_and_nothing_is_read_or_written():
    store, records = RecordingStore(), StaticRecords({})

    with pytest.raises(NotFoundError):
        tenant_export.export_tenant(world(), records, store, "tn_missing", "usr_root")

    assert (store.objects, records.asked) == ({}, [])


def test_a_raw_record_loses_its_keys_and_every_secret():
    from mamba.adapters.dynamo.tenant_export import export_record

    kind, record = export_record(
        {
            "pk": {"S": "TENANT#tn_a"},
            "sk": {"S": "INVITE#inv_1"},
            "gsi1pk": {"S": "x"},
            "kind": {"S": "invitation"},
            "email": {"S": "a@example.org"},
            "token_digest": {"S": "abc"},
            "key_hash": {"S": "h"},
            "totp_secret": {"S": "s"},
            "size": {"N": "12"},
            "ratio": {"N": "0.5"},
            "tags": {"SS": ["b", "a"]},
        }
    )

    assert kind == "invitation"
    assert record == {"email": "a@example.org", "size": 12, "ratio": 0.5, "tags": ["a", "b"]}
    assert export_record({"pk": {"S": "TENANT#t"}, "sk": {"S": "NOTICE#x"}})[0] == "notice"
