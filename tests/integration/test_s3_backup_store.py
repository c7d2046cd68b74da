"""The backup bucket adapter on moto: metadata calls, their idempotent edges, typed errors."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import requests

from mamba import bootstrap
from mamba.adapters.s3_backups import S3BackupStore
from mamba.domain.errors import DependencyUnavailableError

KEY = "2f136684-881b-4ff3-8498-291852a0068b/55e34ac2-8518-4a36-94a8-ee416173666b.tar.gz"


@pytest.fixture
def store(aws: None) -> S3BackupStore:
    built: S3BackupStore = bootstrap.backup_store()
    return built


@pytest.fixture
def broken(aws: None) -> S3BackupStore:
    """A store whose bucket does not exist: every call fails on S3's side."""
    return S3BackupStore(boto3.client("s3", region_name="us-east-1"), "no-such-bucket-here")


def test_missing_objects_and_uploads_are_answers_not_errors(store: S3BackupStore) -> None:
    assert store.size(KEY) is None
    # (completing an unknown upload: moto 5.2.5 raises KeyError in-process instead of NoSuchUpload)
    store.abort(KEY, "no-such-upload")  # idempotent
    assert store.abort_all(KEY) == 0
    assert store.sizes_under("2f136684-881b-4ff3-8498-291852a0068b/") == {}


def test_a_single_part_upload_round_trips_through_presigned_urls(store: S3BackupStore) -> None:
    upload_id = store.create_upload(KEY)
    (url,) = store.part_urls(KEY, upload_id, 1)
    assert requests.put(url, data=b"abc", headers={"Content-Type": "application/x-gzip"}).status_code == 200

    parts = store.listed_parts(KEY, upload_id)
    assert store.complete(KEY, upload_id, parts) is True

    assert store.size(KEY) == 3
    assert store.sizes_under(KEY.split("/")[0] + "/") == {KEY: 3}
    fetched = requests.get(store.download_url(KEY, "b.tar.gz"))
    assert (fetched.content, fetched.headers["Content-Type"]) == (b"abc", "application/x-gzip")
    store.delete(KEY)
    assert store.size(KEY) is None


def test_abort_all_drops_every_open_upload_of_the_key(store: S3BackupStore) -> None:
    store.create_upload(KEY)
    store.create_upload(KEY)

    assert store.abort_all(KEY) == 2
    assert (
        boto3.client("s3", region_name="us-east-1").list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.create_upload(KEY),
        lambda s: s.listed_parts(KEY, "u"),
        lambda s: s.complete(KEY, "u", [(1, '"x"')]),
        lambda s: s.abort(KEY, "u"),
        lambda s: s.abort_all(KEY),
        lambda s: s.size(KEY),
        lambda s: s.sizes_under("x/"),
    ],
    ids=["create", "list-parts", "complete", "abort", "abort-all", "size", "sizes"],
)
def test_storage_failures_are_dependency_unavailable(broken: S3BackupStore, call: Any) -> None:
    with pytest.raises(DependencyUnavailableError):
        call(broken)
