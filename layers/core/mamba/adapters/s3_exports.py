"""The export bucket: tenant archives the panel writes itself (``mamba.services.tenant_export``).

Unlike the backup bucket (whose bytes only Wings moves, through presigned URLs), the panel
writes these objects' bodies: a JSON document it built, in one PutObject.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mamba.domain.errors import DependencyUnavailableError


class S3ExportStore:
    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    def put_json(self, key: str, body: bytes) -> None:
        try:
            self._s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ServerSideEncryption="AES256",
            )
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailableError(
                "The export could not be stored; try again.", {"bucket": self.bucket}
            ) from exc

    def download_url(self, key: str, filename: str, seconds: int) -> str:
        """A presigned GET (signing is local: no request) that downloads as ``filename``."""
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ResponseContentType": "application/json",
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        }
        return str(self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds))

    def delete_tenant(self, tenant_id: str) -> int:
        """Delete every archive of the tenant (``tenants/<tid>/``): its data deletion leaves no
        copy behind (mamba.services.retention). Idempotent; how many objects went."""
        prefix = f"tenants/{tenant_id}/"
        deleted = 0
        try:
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                found = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if found:
                    self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": found, "Quiet": True})
                    deleted += len(found)
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailableError(
                "The tenant's exports could not be deleted; try again.", {"bucket": self.bucket}
            ) from exc
        return deleted
