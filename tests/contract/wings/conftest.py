"""One simulator per module, booted against a FakePanel holding three servers (two boot pages)."""

from __future__ import annotations

import pytest

from tests.contract.wings.harness import running_node


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with running_node(tmp_path_factory.mktemp("wings"), servers=3) as n:
        yield n
