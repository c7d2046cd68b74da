"""`mamba node config NODE`: prints the node's Wings config.yml, or fails in one line."""

from __future__ import annotations

import yaml

from mamba import bootstrap
from mamba.cli import main
from mamba.services import nodes


def test_node_config_prints_the_wings_config_yml_when_the_node_exists(aws, capsys):
    # Given a registered node
    repo = bootstrap.node_repository()
    node = nodes.create_node(repo, {"name": "n1", "fqdn": "node1.example.com", "memory_mb": 1, "disk_mb": 1})

    # When its configuration is printed
    code = main(["node", "config", node.id])

    # Then it is the same YAML the API serves, with the decrypted token
    out = capsys.readouterr().out
    assert code == 0
    config = yaml.safe_load(out)
    assert config["token_id"] == node.token_id
    assert config["token"] == repo.token(node)
    assert config["remote"] == bootstrap.settings().public_url


def test_node_config_fails_in_one_line_when_the_node_is_unknown(aws, capsys):
    code = main(["node", "config", "node_missing"])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("mamba node: error: Node not found.")
    assert len(err.strip().splitlines()) == 1


def test_node_without_an_action_is_a_usage_error(capsys):
    assert main(["node"]) == 2
