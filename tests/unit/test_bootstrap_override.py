"""The composition root's override facility (``bootstrap.override``): what tests use instead of
patching the module. No AWS: only builders that construct objects without calling anything."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from mamba import bootstrap
from mamba.domain.nodes import Node


@pytest.fixture(autouse=True)
def fresh_caches():
    bootstrap.reset()
    yield
    bootstrap.reset()


def test_an_overridden_builder_answers_the_fake_only_inside_the_block():
    # Given the real settings
    real = bootstrap.settings()
    changed = real.model_copy(update={"public_url": "https://panel.example.test"})

    # When a test overrides them
    with bootstrap.override(settings=changed):
        inside = bootstrap.settings()

    # Then the fake answers inside the block and the real ones after it
    assert inside is changed
    assert bootstrap.settings() is real


def test_values_built_from_an_overridden_builder_are_rebuilt_inside_and_forgotten_after():
    # Given the free-plan quotas and a cursor codec built from the real settings
    real_quotas = bootstrap.free_quotas()
    real_codec = bootstrap.cursor_codec()
    changed = bootstrap.settings().model_copy(update={"free_plan_servers": 7, "jwt_secret": "x" * 64})

    # When settings are overridden
    with bootstrap.override(settings=changed):
        quotas_inside = bootstrap.free_quotas()
        codec_inside = bootstrap.cursor_codec()

    # Then what depends on settings was rebuilt from the fake, and the cached real one is back after
    assert quotas_inside.servers == 7 and real_quotas.servers != 7
    assert codec_inside is not real_codec
    assert bootstrap.cursor_codec() is real_codec
    assert bootstrap.free_quotas() == real_quotas


def test_values_built_from_nothing_overridden_are_shared_with_the_enclosing_scope():
    # Given a cached value that does not depend on the workflows
    codec = bootstrap.cursor_codec()

    # When the workflows are overridden
    with bootstrap.override(workflows=Recorder()):
        # Then the cached codec is the same object (nothing is rebuilt needlessly)
        assert bootstrap.cursor_codec() is codec


def test_overrides_nest_and_the_innermost_wins():
    outer, inner = Recorder(), Recorder()

    with bootstrap.override(workflows=outer):
        with bootstrap.override(workflows=inner):
            assert bootstrap.workflows() is inner
        assert bootstrap.workflows() is outer


def test_a_builder_with_parameters_is_replaced_by_a_function_with_the_same_parameters():
    # Given a node repository that knows the node's token and a fake Wings client factory
    made: list[tuple[str, str, str, bool]] = []

    def node_agent(node_id: str, url: str, token: str, *, verify_tls: bool = True) -> object:
        made.append((node_id, url, token, verify_tls))
        return "agent"

    node = Node(
        id="nd_1", uuid="u-1", name="one", fqdn="wings.example.test", token_id="tk_1", created_at="t", updated_at="t"
    )

    # When a service asks for the node's agent
    with bootstrap.override(node_repository=Tokens("s3cret"), node_agent=node_agent):
        agent = bootstrap.agent_for(node)

    # Then the factory was called with the node's address and decrypted token
    assert agent == "agent"
    assert made == [("nd_1", node.connection_address, "s3cret", True)]


def test_an_override_is_seen_by_other_threads():
    # (the in-process Step Functions tasks run in moto's threads)
    fake = Recorder()
    seen: list[object] = []

    with bootstrap.override(workflows=fake):
        worker = threading.Thread(target=lambda: seen.append(bootstrap.workflows()))
        worker.start()
        worker.join()

    assert seen == [fake]


def test_an_unknown_builder_name_is_refused():
    with pytest.raises(TypeError, match="workflow"), bootstrap.override(workflow=Recorder()):
        pass


def test_every_overridable_name_is_a_builder_of_the_module():
    builders = {name for name, value in vars(bootstrap).items() if isinstance(value, bootstrap.Builder)}

    assert set(bootstrap.Overrides.__annotations__) <= builders


@dataclass
class Recorder:
    started: list[str] | None = None

    def start(self, workflow: str, operation_id: str, payload: dict[str, object]) -> str:
        return f"arn:{workflow}:{operation_id}"


@dataclass
class Tokens:
    token_value: str

    def token(self, node: Node) -> str:
        return self.token_value
