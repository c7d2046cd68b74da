"""`make run`: the reconcile_servers schedule runs in the local stack against the seeded
node and reads its server list without failing."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _reconciled(stack: Stack) -> list[dict]:
    runs = []
    for line in stack.log.read_text(errors="replace").splitlines():
        if '"servers reconciled"' in line:
            runs.append(json.loads(line[line.index("{") :]))
    return runs


def test_the_reconcile_schedule_reads_the_seeded_node_when_the_stack_runs(stack: Stack) -> None:
    # Given the running stack (the schedule runs every 10 s locally)
    deadline = time.monotonic() + 60
    runs: list[dict] = []
    while time.monotonic() < deadline and not runs:
        runs = _reconciled(stack)
        time.sleep(1)

    # Then a run listed the seeded node's servers without an error, and none failed
    assert runs, stack.log_tail()
    nodes = runs[-1]["results"]
    assert nodes and all("error" not in node for node in nodes), nodes
    log = stack.log.read_text(errors="replace")
    assert '"schedule":"reconcile_servers"' not in log.replace(" ", ""), stack.log_tail()
