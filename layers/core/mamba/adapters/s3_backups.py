"""The backup bucket: multipart uploads, presigned URLs and metadata calls only.

Nothing here reads or writes an object body: Wings PUTs the parts and GETs the archive
through the presigned URLs this adapter signs (tests/integration/test_backup_no_bytes.py
holds every handler to that).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mamba.domain.backups import CONTENT_TYPE, PART_URL_MAX_SECONDS, SIGNED_URL_MAX_SECONDS
from mamba.domain.errors import DependencyUnavailableError

# Part URLs get their lifetime from mamba.domain.backups.part_url_lifetimes (15 minutes, more
# only for the later parts of a large backup, never over an hour); this is the default.
UPLOAD_URL_SECONDS = SIGNED_URL_MAX_SECONDS
DOWNLOAD_URL_SECONDS = 5 * 60  # a tenant's download link and Wings' restore GET

MISSING = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchUpload"})


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3BackupStore:
    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    def _fail(self, what: str, exc: Exception) -> DependencyUnavailableError:
        return DependencyUnavailableError(f"The backup storage could not {what}; try again.", {"bucket": self.bucket})

    def create_upload(self, key: str) -> str:
        try:
            response = self._s3.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=CONTENT_TYPE, ServerSideEncryption="AES256"
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("start the upload", exc) from exc
        return str(response["UploadId"])

    def part_urls(self, key: str, upload_id: str, parts: int, lifetimes: list[int] | None = None) -> list[str]:
        """Presigned UploadPart URLs for parts 1..parts (signing is local: no request), part i
        valid ``lifetimes[i-1]`` seconds (at most an hour; 15 minutes when not given)."""
        seconds = lifetimes or [UPLOAD_URL_SECONDS] * parts
        return [
            self._s3.generate_presigned_url(
                "upload_part",
                Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": number},
                ExpiresIn=min(seconds[number - 1], PART_URL_MAX_SECONDS),
            )
            for number in range(1, parts + 1)
        ]

    def listed_parts(self, key: str, upload_id: str) -> list[tuple[int, str]]:
        try:
            pages = self._s3.get_paginator("list_parts").paginate(Bucket=self.bucket, Key=key, UploadId=upload_id)
            return [(int(p["PartNumber"]), str(p["ETag"])) for page in pages for p in page.get("Parts", [])]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list the uploaded parts", exc) from exc

    def complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> bool:
        """Complete the upload; False when S3 no longer knows it (completed or aborted before)."""
        try:
            self._s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
            )
        except ClientError as exc:
            if _code(exc) in MISSING:
                return False
            raise self._fail("complete the upload", exc) from exc
        except BotoCoreError as exc:
            raise self._fail("complete the upload", exc) from exc
        return True

    def abort(self, key: str, upload_id: str) -> None:
        """Abort the upload and drop its parts (idempotent)."""
        try:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if _code(exc) not in MISSING:
                raise self._fail("abort the upload", exc) from exc
        except BotoCoreError as exc:
            raise self._fail("abort the upload", exc) from exc

    def abort_all(self, key: str) -> int:
        """Abort every open upload of ``key`` (parts a failed node left behind); how many."""
        try:
            uploads = self._s3.list_multipart_uploads(Bucket=self.bucket, Prefix=key).get("Uploads", [])
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list open uploads", exc) from exc
        for upload in uploads:
            if upload.get("Key") == key:
                self.abort(key, str(upload["UploadId"]))
        return len([u for u in uploads if u.get("Key") == key])

    def size(self, key: str) -> int | None:
        """HeadObject: the object's size, or None when it does not exist."""
        try:
            return int(self._s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except ClientError as exc:
            if _code(exc) in MISSING:
                return None
            raise self._fail("read the backup's size", exc) from exc
        except BotoCoreError as exc:
            raise self._fail("read the backup's size", exc) from exc

    def delete(self, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("delete the backup", exc) from exc

    def download_url(self, key: str, filename: str | None = None) -> str:
        """A presigned GET valid 5 minutes; the response's Content-Type is the gzip type Wings
        requires for a restore, whatever the object was stored with."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "ResponseContentType": CONTENT_TYPE}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return str(self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=DOWNLOAD_URL_SECONDS))

    def sizes_under(self, prefix: str) -> dict[str, int]:
        """Every object key under ``prefix`` with its size (ListObjectsV2, paginated)."""
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            return {str(o["Key"]): int(o["Size"]) for page in pages for o in page.get("Contents", [])}
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list the backups", exc) from exc
