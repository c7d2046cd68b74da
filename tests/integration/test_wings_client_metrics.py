"""The Wings client's operator metrics per node, over real HTTP: the latency of every call, and
an error count only for the calls the node failed (not for its refusals)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mamba.adapters.wings.errors import WingsRejectedError, WingsUnavailableError
from tests.integration.test_wings_client import Reply, agent_for, closed_port, daemon  # noqa: F401 - the fixture


def published(out: str, name: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    return [line for line in lines if name in line]


def test_every_call_publishes_its_latency_under_the_node_and_nothing_else_names_the_server(daemon, capsys):  # noqa: F811
    daemon.replies.append(Reply(200, {"architecture": "amd64", "version": "1.11.11", "os": "linux"}))

    agent_for(daemon.url).system()

    out = capsys.readouterr().out
    [latency] = published(out, "WingsCallLatency")
    assert latency["node"] == "node-1" and latency["WingsCallLatency"][0] > 0
    assert published(out, "WingsCallErrors") == []
    assert "d3aac109" not in out  # no server uuid in any metric


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(500, {"error": "boom"}), "5xx"),
        (Reply(503, b"bad gateway"), "5xx"),
        (Reply(200, None, delay=1.5), "timeout"),
    ],
)
def test_a_call_the_node_fails_counts_as_an_error_of_its_kind(daemon, capsys, reply, reason):  # noqa: F811
    daemon.replies.extend([reply] * 3)

    with pytest.raises(WingsUnavailableError):
        agent_for(daemon.url).system(probe=True)

    errors = published(capsys.readouterr().out, "WingsCallErrors")
    assert [(e["node"], e["reason"]) for e in errors] == [("node-1", reason)]


def test_an_unreachable_node_counts_as_unreachable(capsys):
    with pytest.raises(WingsUnavailableError):
        agent_for(f"http://127.0.0.1:{closed_port()}").system(probe=True)

    assert [e["reason"] for e in published(capsys.readouterr().out, "WingsCallErrors")] == ["unreachable"]


def test_a_refusal_is_the_node_answering_not_an_error(daemon, capsys):  # noqa: F811
    daemon.replies.append(Reply(409, {"error": "Server is busy."}))

    with pytest.raises(WingsRejectedError):
        agent_for(daemon.url).power("d3aac109-e5a0-4331-b03e-3454f7e136dc", "start")

    out = capsys.readouterr().out
    assert published(out, "WingsCallErrors") == [] and len(published(out, "WingsCallLatency")) == 1
