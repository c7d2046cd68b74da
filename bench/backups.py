"""Backups to S3 (docs/backups.md): the Wings simulator's S3 backup of a 50 MiB server and the
requests one backup costs.

The simulator runs as a subprocess against the test FakePanel (tests/contract/wings), which
presigns a real multipart upload on a moto server, like the panel's remote API does. For each
size the section reports the time from the backup request to the completion callback, the
throughput, and the requests: Wings → panel (presign + completion), panel → Wings (the backup
request) and Wings → S3 (one PUT per part). Only the part count grows with the size.
"""

from __future__ import annotations

import logging
import math
import random
import time
import uuid
from pathlib import Path
from typing import Any

from bench.registry import BenchContext, MeasurementError, Row, section

MIB = 1024 * 1024
PART = 5 * MIB
SIZES_MIB = (10, 50)
BUCKET = "bench-backups"


def _fill(directory: Path, size: int, seed: int) -> None:
    """``size`` bytes of incompressible files (the worst case: the archive is as big), plus an
    ignored ``cache/``."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    left, n = size, 0
    while left > 0:
        chunk = min(left, 4 * MIB)
        (directory / f"world-{n:03d}.bin").write_bytes(rng.randbytes(chunk))
        left -= chunk
        n += 1
    (directory / "cache").mkdir(exist_ok=True)
    (directory / "cache" / "tmp.bin").write_bytes(b"x" * MIB)


def _measure(ctx: BenchContext) -> list[Row]:
    import boto3
    from botocore.config import Config
    from moto.server import ThreadedMotoServer

    from tests.contract.wings.harness import free_port, running_node

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    rows: list[Row] = []
    try:
        s3 = boto3.client(
            "s3",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        s3.create_bucket(Bucket=BUCKET)
        base = ctx.workdir / "wings-backups"
        base.mkdir(parents=True, exist_ok=True)
        with running_node(base) as node:
            for index, size_mib in enumerate(SIZES_MIB):
                rows.append(_one_backup(node, s3, size_mib * MIB, index))
    finally:
        moto.stop()
    return rows


def _one_backup(node: Any, s3: Any, size: int, seed: int) -> Row:
    server_uuid = node.create_installed()
    _fill(node.data_dir / server_uuid, size, seed)
    uploads: dict[str, str] = {}

    def presign(backup_uuid: str, archive_size: int) -> dict[str, Any]:
        key = f"{server_uuid}/{backup_uuid}.tar.gz"
        upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ContentType="application/x-gzip")["UploadId"]
        uploads[backup_uuid] = upload_id
        urls = [
            s3.generate_presigned_url(
                "upload_part",
                Params={"Bucket": BUCKET, "Key": key, "UploadId": upload_id, "PartNumber": number},
                ExpiresIn=3600,
            )
            for number in range(1, max(1, math.ceil(archive_size / PART)) + 1)
        ]
        return {"parts": urls, "part_size": PART}

    node.panel.backup_urls = presign
    backup_uuid = str(uuid.uuid4())
    before = len(node.panel.calls)
    started = time.perf_counter()
    response = node.http(
        "POST", f"/api/servers/{server_uuid}/backup", json={"adapter": "s3", "uuid": backup_uuid, "ignore": "cache/"}
    )
    if response.status_code != 202:
        raise MeasurementError(f"backup request answered {response.status_code}: {response.text[:200]}")
    call = node.panel.wait_for("POST", f"/api/remote/backups/{backup_uuid}", timeout=300)
    seconds = time.perf_counter() - started
    body = call.body
    if not body.get("successful"):
        raise MeasurementError(f"the simulator reported a failed backup: {node.stderr()[-500:]}")
    panel_calls = [c for c in node.panel.calls[before:] if c.path.startswith("/api/remote/backups/")]
    parts = len(body["parts"])
    return {
        "size_mib": size // MIB,
        "archive_mib": round(body["size"] / MIB, 1),
        "seconds": round(seconds, 2),
        "mib_per_s": round(size / MIB / seconds, 1),
        "parts": parts,
        "wings_to_panel": len(panel_calls),
        "panel_to_wings": 1,
        "s3_puts": parts,
        "requests_minus_parts": len(panel_calls) + 1,
    }


@section(
    "backups",
    title="S3 backup on the Wings simulator (incompressible data, 5 MiB parts)",
    columns=(
        ("size_mib", "MiB"),
        ("archive_mib", "archive MiB"),
        ("seconds", "s"),
        ("mib_per_s", "MiB/s"),
        ("parts", "parts"),
        ("wings_to_panel", "Wings→panel"),
        ("panel_to_wings", "panel→Wings"),
        ("s3_puts", "Wings→S3"),
        ("requests_minus_parts", "requests minus parts"),
    ),
)
def backups(ctx: BenchContext) -> list[Row]:
    rows: list[Row] = ctx.memo("backups", lambda: _measure(ctx))
    constant = {r["requests_minus_parts"] for r in rows}
    verdict = "PASS" if len(constant) == 1 else "FAIL"
    return [
        *rows,
        {"size_mib": "panel requests per backup independent of its size (but the parts)", "status": verdict},
    ]
