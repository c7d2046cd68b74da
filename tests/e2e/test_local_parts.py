"""The local stack's own parts, without a running stack: secrets, mail rendering, timer, refusals."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from local.launcher import ensure_local_secrets
from local.mailbox import list_messages, to_eml
from local.scheduler import Schedule, Timer

CALLS: list[dict[str, Any]] = []
_CALLED = threading.Event()


def record(event: dict[str, Any], context: Any) -> None:
    """A scheduled handler for the timer test."""
    CALLS.append(event)
    if len(CALLS) >= 2:
        _CALLED.set()


def explode(event: dict[str, Any], context: Any) -> None:
    raise RuntimeError("boom")


def test_generated_secrets_are_kept_when_the_file_already_exists(tmp_path: Path) -> None:
    # Given
    path = tmp_path / "secrets.env"
    first = ensure_local_secrets(path, {})
    # When
    second = ensure_local_secrets(path, {})
    # Then
    assert first == second
    assert len(first["JWT_SECRET"].encode()) >= 48
    assert path.stat().st_mode & 0o777 == 0o600


def test_no_jwt_secret_is_generated_when_the_environment_sets_one(tmp_path: Path) -> None:
    values = ensure_local_secrets(tmp_path / "secrets.env", {"JWT_SECRET": "x" * 64})
    assert "JWT_SECRET" not in values


def test_simple_html_send_is_rendered_as_html_mime_when_spooled(tmp_path: Path) -> None:
    # Given
    message = SimpleNamespace(
        source="no-reply@mamba.local",
        destinations={"ToAddresses": ["a@example.com"], "CcAddresses": ["b@example.com"]},
        subject="Reset your password",
        body="<p><a href='http://127.0.0.1:8000/reset?t=1'>reset</a></p>",
    )
    # When
    (tmp_path / "20260101T000000000000Z-m1.eml").write_bytes(to_eml(message, "m1", datetime.now(UTC)))
    # Then
    [summary] = list_messages(tmp_path)
    assert (summary.sender, summary.to, summary.subject) == (
        "no-reply@mamba.local",
        "a@example.com",
        "Reset your password",
    )
    parsed = message_from_bytes(summary.path.read_bytes(), policy=policy.default)
    assert parsed["Cc"] == "b@example.com"
    assert parsed.get_content_type() == "text/html"


def test_raw_send_is_written_as_given_when_spooled() -> None:
    raw = "From: a@mamba.local\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
    assert to_eml(SimpleNamespace(raw_data=raw), "m2", datetime.now(UTC)) == raw.encode()


def test_list_is_empty_when_no_mail_folder_exists(tmp_path: Path) -> None:
    assert list_messages(tmp_path / "missing") == []


def test_timer_fires_a_schedule_every_interval_and_survives_a_failing_one() -> None:
    # Given
    CALLS.clear()
    _CALLED.clear()
    schedules = [
        Schedule("failing", 0.05, f"{__name__}:explode"),
        Schedule("recorder", 0.05, f"{__name__}:record"),
    ]
    timer = Timer(schedules, "us-east-1")
    # When
    timer.start()
    fired = _CALLED.wait(5)
    timer.stop()
    timer.join(5)
    # Then
    assert fired
    assert CALLS[0]["detail-type"] == "Scheduled Event"
    assert CALLS[0]["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/recorder"]
    assert timer.runs["failing"] >= 1
    assert not timer.is_alive()


def test_timer_does_nothing_when_no_schedule_is_registered() -> None:
    timer = Timer([], "us-east-1")
    started = time.monotonic()
    timer.start()
    timer.join(1)
    assert not timer.is_alive() and time.monotonic() - started < 1


def _launch(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    from tests.e2e.conftest import ROOT, launcher_environment

    return subprocess.run(
        [sys.executable, "-m", "local.launcher"],
        cwd=ROOT,
        env={**launcher_environment(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_launcher_refuses_to_start_naming_the_variable_when_jwt_secret_is_weak(tmp_path: Path) -> None:
    # When
    result = _launch(tmp_path, JWT_SECRET="changeme-changeme-changeme-changeme")
    # Then
    assert result.returncode == 2
    assert "JWT_SECRET" in result.stdout
    assert not (tmp_path / "secrets.env").read_text().count("JWT_SECRET=")


def test_launcher_refuses_to_start_naming_the_variable_when_its_port_is_taken(tmp_path: Path) -> None:
    # Given
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # When
        result = _launch(tmp_path, LOCAL_AWS_PORT=str(port))
    # Then
    assert result.returncode == 2
    assert f"127.0.0.1:{port} is in use; set LOCAL_AWS_PORT" in result.stdout
    assert not (tmp_path / "stack.json").exists()
