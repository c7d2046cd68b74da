"""Node facts never reach a tenant through an error's details (mamba.redaction)."""

from __future__ import annotations

from mamba import redaction


def test_node_ids_wings_calls_and_placement_counts_are_stripped_at_any_depth():
    details = {
        "node_id": "nd_1",
        "method": "POST",
        "path": "/api/servers/x/power",
        "wings_status": 502,
        "reason": "unreachable",
        "nodes_considered": 4,
        "ruled_out": {"memory": 4},
        "fields": [{"field": "name", "node_name": "fra-1"}],
    }

    assert redaction.strip(details) == {"reason": "unreachable", "fields": [{"field": "name"}]}
    assert redaction.reveals_nodes(details)


def test_details_without_node_facts_are_kept_as_they_are():
    details = {"reason": "timeout", "retry_in_seconds": 5, "fields": [{"field": "memory_mb"}]}

    assert redaction.strip(details) == details
    assert not redaction.reveals_nodes(details)
