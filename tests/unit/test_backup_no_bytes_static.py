"""No handler reads or writes a backup's bytes: no product code calls an S3 body operation.

Wings PUTs the parts and GETs the archive through presigned URLs; the panel only signs them
and makes metadata calls. The runtime half of this proof is
tests/statemachines/test_backup_no_bytes.py (every S3 call the panel makes while a backup,
a restore and a download run)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BODY_CALLS = frozenset(
    {
        "get_object",
        "put_object",
        "upload_part",
        "upload_part_copy",
        "upload_file",
        "upload_fileobj",
        "download_file",
        "download_fileobj",
        "select_object_content",
        "write_get_object_response",
    }
)


# The one place the panel writes a body: a tenant export, a JSON document the panel built itself,
# into the export bucket (never the backup bucket), mamba.services.tenant_export.
EXPORT_WRITER = "layers/core/mamba/adapters/s3_exports.py"


def product_files() -> list[Path]:
    return sorted([*ROOT.joinpath("layers").rglob("*.py"), *ROOT.joinpath("functions").rglob("*.py"), ROOT / "app.py"])


def body_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in BODY_CALLS:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.attr}")
        # client.get_paginator("...") / getattr(client, "put_object") would hide a body call too
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value in BODY_CALLS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} getattr {node.args[1].value}")
    return found


def test_no_product_code_calls_an_s3_body_operation() -> None:
    files = product_files()
    assert any(p.name == "s3_backups.py" for p in files)  # the scan covers the backup adapter

    found = [call for path in files for call in body_calls(path)]

    assert [c for c in found if not c.startswith(f"{EXPORT_WRITER}:")] == []
    assert [c.rsplit(" ", 1)[1] for c in found] == ["put_object"]  # the export writer only puts


def test_the_scan_finds_a_body_call_when_there_is_one(tmp_path: Path) -> None:
    sample = ROOT / "layers" / "_sample_for_scan.py"
    try:
        sample.write_text("def f(s3):\n    return s3.get_object(Bucket='b', Key='k')['Body'].read()\n")
        assert body_calls(sample) == ["layers/_sample_for_scan.py:2 get_object"]
    finally:
        sample.unlink()
