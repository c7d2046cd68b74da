"""The backup ports: the backup records (running lock, conditional saves, the tenant's storage
counter) over FakeBackupRepository and DynamoBackupRepository, and the bucket's multipart
uploads over FakeBackupStore and S3BackupStore, both on moto. Ids are unique per test."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mamba.domain.backups import Backup, s3_key
from mamba.domain.errors import ConflictError, DependencyUnavailableError, NotFoundError
from tests.fakes import FakeBackupRepository, FakeBackupStore

T0, T1 = "2026-11-25T10:00:00Z", "2026-11-25T10:00:01Z"


def uid() -> str:
    return secrets.token_hex(4)


def backup(server_uuid: str | None = None, tenant_id: str | None = None, created_at: str = T0, **kw: Any) -> Backup:
    return Backup(
        uuid=f"bk-{uid()}",
        server_uuid=server_uuid or f"srv-{uid()}",
        tenant_id=tenant_id or f"tn_{uid()}",
        node_id="n1",
        name="nightly",
        status="running",
        created_at=created_at,
        updated_at=created_at,
        **kw,
    )


class BackupRepositoryContract:
    @pytest.fixture
    def repo(self) -> Any:
        raise NotImplementedError

    def test_add_running_stores_the_backup_and_takes_the_servers_lock(self, repo):
        made = backup(ignored=("*.log",))

        repo.add_running(made)

        assert repo.get(made.uuid) == made
        assert repo.running_lock(made.server_uuid) == made.uuid

    def test_add_running_conflicts_while_another_backup_of_the_server_runs(self, repo):
        first = backup()
        repo.add_running(first)
        second = backup(first.server_uuid, first.tenant_id)

        with pytest.raises(ConflictError):
            repo.add_running(second)
        with pytest.raises(NotFoundError):
            repo.get(second.uuid)

    def test_release_lock_frees_the_server_only_for_the_holder(self, repo):
        first = backup()
        repo.add_running(first)

        repo.release_lock(first.server_uuid, "bk-someone-else")
        held = repo.running_lock(first.server_uuid)
        repo.release_lock(first.server_uuid, first.uuid)
        repo.release_lock(first.server_uuid, first.uuid)

        assert held == first.uuid
        assert repo.running_lock(first.server_uuid) is None
        repo.add_running(backup(first.server_uuid, first.tenant_id))

    def test_save_with_an_expected_status_applies_once(self, repo):
        made = backup()
        repo.add_running(made)

        repo.save(replace(made, status="completed", size_bytes=10), expected_status="running")

        with pytest.raises(ConflictError):
            repo.save(replace(made, status="failed"), expected_status="running")
        assert (repo.get(made.uuid).status, repo.get(made.uuid).size_bytes) == ("completed", 10)
        with pytest.raises(ConflictError):
            repo.save(backup())

    def test_set_operation_changes_only_the_operation_id(self, repo):
        made = backup()
        repo.add_running(made)

        repo.set_operation(made.uuid, "op_1")

        assert repo.get(made.uuid) == replace(made, operation_id="op_1")

    def test_of_server_and_of_tenant_list_oldest_first(self, repo):
        tenant, server_uuid = f"tn_{uid()}", f"srv-{uid()}"
        new = backup(server_uuid, tenant, created_at=T1)
        old = backup(server_uuid, tenant, created_at=T0)
        elsewhere = backup(None, tenant, created_at=T1)
        for each in (new, old, elsewhere):
            repo.add_running(replace(each, server_uuid=each.server_uuid))
            repo.release_lock(each.server_uuid, each.uuid)

        assert [b.uuid for b in repo.of_server(server_uuid)] == [old.uuid, new.uuid]
        assert {b.uuid for b in repo.of_tenant(tenant)} == {old.uuid, new.uuid, elsewhere.uuid}
        assert repo.of_tenant(tenant)[0].uuid == old.uuid

    def test_delete_forgets_the_backup(self, repo):
        made = backup()
        repo.add_running(made)

        repo.delete(made.uuid)

        with pytest.raises(NotFoundError):
            repo.get(made.uuid)

    def test_count_moves_the_size_into_and_out_of_the_tenants_counter_once(self, repo):
        made = backup(size_bytes=100)
        repo.add_running(made)

        first, again = repo.count(made, True), repo.count(made, True)
        counted_usage = repo.usage(made.tenant_id)
        out = repo.count(made, False)

        assert (first, again, out) == (True, False, True)
        assert counted_usage == 100 and repo.usage(made.tenant_id) == 0
        assert made.tenant_id in repo.tenants_with_usage()
        assert repo.count(backup(size_bytes=5), True) is False  # an unknown backup counts nothing

    def test_usage_and_rotation_default_and_are_set(self, repo):
        tenant = f"tn_{uid()}"

        before = (repo.usage(tenant), repo.rotation(tenant))
        repo.set_rotation(tenant, True)
        repo.set_usage(tenant, 4096, T1)

        assert before == (0, False)
        assert (repo.usage(tenant), repo.rotation(tenant)) == (4096, True)
        assert tenant in repo.tenants_with_usage()


class TestBackupRepositoryOnFake(BackupRepositoryContract):
    @pytest.fixture
    def repo(self) -> Any:
        return FakeBackupRepository()


class TestBackupRepositoryOnDynamo(BackupRepositoryContract):
    @pytest.fixture
    def repo(self, request: pytest.FixtureRequest) -> Any:
        request.getfixturevalue("aws")
        from mamba import bootstrap

        return bootstrap.backup_repository()


# --- the bucket ---------------------------------------------------------------------------------

PutPart = Callable[[str, str, int, bytes], str]


class BackupStoreContract:
    @pytest.fixture
    def bucket(self) -> tuple[Any, PutPart, Callable[[str, bytes], None]]:
        """(store, put_part(key, upload_id, number, body) -> etag, put_object(key, body))"""
        raise NotImplementedError

    def test_an_upload_completes_from_its_listed_parts_into_an_object_of_their_size(self, bucket):
        store, put_part, _ = bucket
        key = s3_key(f"srv-{uid()}", f"bk-{uid()}")
        upload_id = store.create_upload(key)
        etag = put_part(key, upload_id, 1, b"x" * 1000)

        parts = store.listed_parts(key, upload_id)
        done = store.complete(key, upload_id, parts)

        assert parts == [(1, etag)]
        assert done is True and store.size(key) == 1000

    def test_abort_drops_the_upload_and_is_idempotent(self, bucket):
        store, put_part, _ = bucket
        key = s3_key(f"srv-{uid()}", f"bk-{uid()}")
        upload_id = store.create_upload(key)
        put_part(key, upload_id, 1, b"z")

        store.abort(key, upload_id)
        store.abort(key, upload_id)

        # (complete on a gone upload is False on S3, but moto 5.2.5 raises KeyError there, so
        # the contract reads the upload's parts instead)
        with pytest.raises(DependencyUnavailableError):
            store.listed_parts(key, upload_id)
        assert store.size(key) is None

    def test_abort_all_aborts_every_open_upload_of_the_key_only(self, bucket):
        store, _, _ = bucket
        key, other = s3_key(f"srv-{uid()}", "bk-a"), s3_key(f"srv-{uid()}", "bk-b")
        store.create_upload(key)
        store.create_upload(key)
        kept = store.create_upload(other)

        assert store.abort_all(key) == 2
        assert store.abort_all(key) == 0
        assert store.listed_parts(other, kept) == []

    def test_part_urls_name_each_part_of_the_upload_with_its_lifetime(self, bucket):
        store, _, _ = bucket
        key = s3_key(f"srv-{uid()}", f"bk-{uid()}")
        upload_id = store.create_upload(key)

        urls = store.part_urls(key, upload_id, 3, [60, 600, 7200])

        queries = [parse_qs(urlsplit(url).query) for url in urls]
        assert [q["partNumber"] for q in queries] == [["1"], ["2"], ["3"]]
        assert all(q["uploadId"] == [upload_id] for q in queries)
        assert [q["X-Amz-Expires"] for q in queries] == [["60"], ["600"], ["3600"]]  # never over an hour
        assert all(key in urlsplit(url).path for url in urls)

    def test_download_url_answers_as_gzip_with_the_file_name(self, bucket):
        store, _, _ = bucket
        key = s3_key(f"srv-{uid()}", f"bk-{uid()}")

        query = parse_qs(urlsplit(store.download_url(key, "nightly.tar.gz")).query)

        assert query["response-content-type"] == ["application/x-gzip"]
        assert query["response-content-disposition"] == ['attachment; filename="nightly.tar.gz"'] or query[
            "response-content-disposition"
        ] == ["attachment; filename=nightly.tar.gz"]

    def test_sizes_under_lists_a_prefix_and_delete_removes_an_object(self, bucket):
        store, _, put_object = bucket
        server = f"srv-{uid()}"
        put_object(s3_key(server, "bk-a"), b"a" * 3)
        put_object(s3_key(server, "bk-b"), b"b" * 5)
        put_object(s3_key(f"srv-{uid()}", "bk-c"), b"c")

        before = store.sizes_under(f"{server}/")
        store.delete(s3_key(server, "bk-a"))
        store.delete(s3_key(server, "bk-a"))

        assert before == {s3_key(server, "bk-a"): 3, s3_key(server, "bk-b"): 5}
        assert store.sizes_under(f"{server}/") == {s3_key(server, "bk-b"): 5}
        assert store.size(s3_key(server, "bk-a")) is None


class TestBackupStoreOnFake(BackupStoreContract):
    @pytest.fixture
    def bucket(self) -> tuple[Any, PutPart, Callable[[str, bytes], None]]:
        store = FakeBackupStore()
        return store, store.put_part, lambda key, body: store.put_object(key, len(body))


class TestBackupStoreOnS3(BackupStoreContract):
    @pytest.fixture
    def bucket(self, request: pytest.FixtureRequest) -> tuple[Any, PutPart, Callable[[str, bytes], None]]:
        request.getfixturevalue("aws")
        import boto3

        from mamba import bootstrap

        store = bootstrap.backup_store()
        s3 = boto3.client("s3", region_name=bootstrap.settings().region)

        def put_part(key: str, upload_id: str, number: int, body: bytes) -> str:
            # What Wings does through the presigned URL, sent by boto3 since moto runs in-process.
            answer = s3.upload_part(Bucket=store.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
            return str(answer["ETag"])

        def put_object(key: str, body: bytes) -> None:
            s3.put_object(Bucket=store.bucket, Key=key, Body=body)

        return store, put_part, put_object
