"""The web panel's browser journeys (web/tests/*.spec.ts) in real Chromium against this
session's local stack: Playwright's runner drives Debian's ``chromium`` (no browser
download), reads mail from the stack's spool and fails on any axe-core serious/critical
violation, missing translation or CSP violation. docs/web.md explains the journeys.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

WEB = ROOT / "web"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# metrics.spec.ts waits up to about a minute for the reconcile's first sample of a new server.
JOURNEYS_TIMEOUT_SECONDS = 1200


def _missing() -> str | None:
    """Why the journeys cannot run here, or None. `make test` builds what they need (make deps)."""
    if not (WEB / "node_modules" / ".bin" / "playwright").exists():
        return "web/node_modules is not installed (make deps runs npm ci in web/)"
    if not (WEB / "dist" / "index.html").exists():
        return "web/dist is not built (make deps builds it)"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)"
    return None


def test_web_journeys_pass_in_chromium(stack: Stack, tmp_path: Path) -> None:
    # Given the built panel on the stack's port and Debian's Chromium
    reason = _missing()
    if reason:
        # `make test` builds what the journeys need and .ci/run installs Chromium: in CI a missing
        # piece is a broken set-up, never a reason to switch the journeys off.
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    env = {
        **os.environ,
        "PANEL_URL": stack.info["panel"].rstrip("/"),
        "MAIL_DIR": stack.info["mail_dir"],
        "CHROMIUM_PATH": CHROMIUM,
        "PW_OUTPUT_DIR": str(tmp_path / "playwright"),
        "CI": "1",
    }

    # When every journey runs as a person would (web/tests/*.spec.ts)
    done = subprocess.run(
        # JOURNEYS="tests/access.spec.ts ..." runs only those files (a developer's loop; CI runs all).
        [str(WEB / "node_modules" / ".bin" / "playwright"), "test", *os.environ.get("JOURNEYS", "").split()],
        cwd=WEB,
        env=env,
        capture_output=True,
        text=True,
        timeout=JOURNEYS_TIMEOUT_SECONDS,
        check=False,
    )

    # Then they all pass (the report names the failing step and where its screenshot is)
    report = (done.stdout + done.stderr)[-20000:]
    assert done.returncode == 0, f"browser journeys failed:\n{report}\n--- stack log ---\n{stack.log_tail()}"
