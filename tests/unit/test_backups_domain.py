"""The pure backup rules: quota and rotation, the multipart part count, Wings' bodies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mamba.domain import backups as bk
from mamba.domain.errors import ConflictError, QuotaExceededError, ValidationError
from mamba.domain.quotas import Quotas

SERVER = "2f136684-881b-4ff3-8498-291852a0068b"
QUOTAS = Quotas(servers=1, memory_mb=1, disk_mb=1, backup_bytes=1000, backups_per_server=2)


def backup(n: int, status: str = bk.COMPLETED, locked: bool = False) -> bk.Backup:
    made = bk.new_backup(f"00000000-0000-4000-8000-{n:012d}", SERVER, "tn", "nd", None, (), f"2026-12-01T00:00:0{n}Z")
    return replace(made, status=status, locked=locked)


def test_under_the_limits_a_backup_may_start_without_rotation() -> None:
    assert bk.check_quota(QUOTAS, [backup(1)], 999, rotation=False) == bk.QuotaDecision(rotate=False)


def test_full_storage_is_quota_exceeded_even_with_rotation() -> None:
    with pytest.raises(QuotaExceededError) as caught:
        bk.check_quota(QUOTAS, [], 1000, rotation=True)

    assert caught.value.code == "QUOTA_EXCEEDED" and caught.value.status == 403
    assert caught.value.details["quota"] == "backup_bytes"


def test_count_limit_without_rotation_is_quota_exceeded() -> None:
    with pytest.raises(QuotaExceededError) as caught:
        bk.check_quota(QUOTAS, [backup(1), backup(2)], 0, rotation=False)

    assert caught.value.details["quota"] == "backups_per_server"


def test_count_limit_with_rotation_rotates_when_an_unlocked_backup_can_go() -> None:
    assert bk.check_quota(QUOTAS, [backup(1, locked=True), backup(2)], 0, rotation=True).rotate is True


def test_count_limit_with_rotation_but_every_backup_locked_is_quota_exceeded() -> None:
    with pytest.raises(QuotaExceededError):
        bk.check_quota(QUOTAS, [backup(1, locked=True), backup(2, locked=True)], 0, rotation=True)


def test_failed_backups_do_not_count_and_negative_limits_are_unlimited() -> None:
    unlimited = Quotas(servers=1, memory_mb=1, disk_mb=1, backup_bytes=-1, backups_per_server=-1)

    assert bk.check_quota(QUOTAS, [backup(1), backup(2, bk.FAILED)], 0, rotation=False).rotate is False
    assert bk.check_quota(unlimited, [backup(i) for i in range(5)], 10**15, rotation=False).rotate is False


def test_rotation_takes_the_oldest_unlocked_completed_backups() -> None:
    backups = [backup(1, locked=True), backup(2), backup(3, bk.UPLOADING), backup(4), backup(5)]

    assert [b.uuid[-1] for b in bk.rotation_candidates(backups, 3)] == ["2", "4"]
    assert bk.rotation_candidates(backups, 5) == []


@pytest.mark.parametrize(("size", "part", "count"), [(0, 5, 1), (5, 5, 1), (6, 5, 2), (734003200, 5368709120, 1)])
def test_part_count_is_the_ceiling_of_size_over_part_size(size: int, part: int, count: int) -> None:
    assert bk.part_count(size, part) == count


@pytest.mark.parametrize("raw", [None, "", " ", "abc", "-1", "1.5"])
def test_presign_size_must_be_a_non_negative_integer(raw: str | None) -> None:
    with pytest.raises(ValidationError):
        bk.parse_size(raw, 5)


def test_presign_size_beyond_ten_thousand_parts_is_refused() -> None:
    assert bk.parse_size("50000", 5) == 50000
    with pytest.raises(ValidationError):
        bk.parse_size("50001", 5)


def test_completion_body_is_parsed_as_wings_sends_it() -> None:
    parsed = bk.parse_completion(
        {
            "checksum": "A" * 40,
            "checksum_type": "sha1",
            "size": 7,
            "successful": True,
            "parts": [{"etag": '"b"', "part_number": 2}, {"etag": '"a"', "part_number": 1}],
        }
    )
    failed = bk.parse_completion({"checksum": "", "checksum_type": "", "size": 0, "successful": False, "parts": None})

    assert parsed == bk.Completion(True, "a" * 40, 7, ((1, '"a"'), (2, '"b"')))
    assert failed == bk.Completion(successful=False)


def test_completed_backup_stores_the_checksum_as_the_reference_panel_does() -> None:
    done = bk.completed(backup(1, bk.UPLOADING), bk.Completion(True, "a" * 40, 7), "t")

    assert (done.status, done.checksum, done.size_bytes, done.completed_at) == ("completed", "sha1:" + "a" * 40, 7, "t")


def test_locked_backup_cannot_be_deleted_and_only_a_completed_one_restored() -> None:
    with pytest.raises(ConflictError):
        bk.deleting(backup(1, locked=True), "t")
    with pytest.raises(ConflictError):
        bk.restoring(backup(2, bk.FAILED), "offline", "t")
    assert bk.deleting(backup(3), "t").status == bk.DELETING


def test_ignore_patterns_are_one_line_each_and_blank_ones_dropped() -> None:
    assert bk.clean_ignored([" cache/ ", "", "*.log"]) == ("cache/", "*.log")
    with pytest.raises(ValidationError):
        bk.clean_ignored(["a\nb"])


@pytest.mark.parametrize(
    ("locked", "status", "kept"),
    [
        (True, "completed", True),
        (True, "restoring", True),  # a restore into the deleted server ends; the locked backup stays
        (True, "failed", False),
        (True, "uploading", False),
        (False, "completed", False),
    ],
)
def test_only_a_locked_usable_backup_outlives_its_server(locked: bool, status: str, kept: bool) -> None:
    from mamba.domain.backups import Backup, outlives_server

    backup = Backup(uuid="b", server_uuid="s", tenant_id="t", node_id="n", name="x", status=status,
                    created_at="2026-12-01T00:00:00Z", updated_at="2026-12-01T00:00:00Z", locked=locked)  # fmt: skip
    assert outlives_server(backup) is kept
