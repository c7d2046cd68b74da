"""The passkeys journey (web/tests/passkeys.spec.ts) in real Chromium with a virtual
authenticator, against a local stack of its own whose panel is on ``localhost``: browsers
refuse WebAuthn on an IP address, and the shared stack's panel is on 127.0.0.1
(``LOCAL_PANEL_HOST``, local/launcher.py; docs/passkeys.md).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, launcher_environment, running_stack
from tests.e2e.test_web_journeys import CHROMIUM, WEB, _missing

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

JOURNEY_TIMEOUT_SECONDS = 300


@pytest.fixture(scope="module")
def localhost_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("passkeys-stack")
    env = launcher_environment(folder)
    env["LOCAL_PANEL_HOST"] = "localhost"
    with running_stack(folder, env) as running:
        yield running


def test_passkeys_journey_passes_in_chromium(localhost_stack: Stack, tmp_path: Path) -> None:
    # Given the built panel, Chromium, and a stack whose panel is http://localhost:<port>
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    panel = localhost_stack.info["panel"].rstrip("/")
    assert panel.startswith("http://localhost:")
    env = {
        **os.environ,
        "PANEL_URL": panel,
        "MAIL_DIR": localhost_stack.info["mail_dir"],
        "CHROMIUM_PATH": CHROMIUM,
        "PW_OUTPUT_DIR": str(tmp_path / "playwright"),
        "CI": "1",
    }

    # When the journey runs: register, sign out, sign in with the passkey, then as second factor
    done = subprocess.run(
        [str(WEB / "node_modules" / ".bin" / "playwright"), "test", "tests/passkeys.spec.ts"],
        cwd=WEB,
        env=env,
        capture_output=True,
        text=True,
        timeout=JOURNEY_TIMEOUT_SECONDS,
        check=False,
    )

    # Then it passed, and was not skipped
    report = (done.stdout + done.stderr)[-20000:]
    assert done.returncode == 0, f"passkeys journey failed:\n{report}\n--- stack log ---\n{localhost_stack.log_tail()}"
    assert "1 passed" in report, report
