"""A server's extra ports, primary port and image (``ServerNetworkStore``, Pterodactyl's client
network and docker-image routes): one base class, run over the fake and over DynamoDB on moto,
plus the allocations' notes (``AllocationRepository.set_notes``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.servers import FeatureLimits
from tests.contract.test_server_stores import T1, _dynamo, allocation, server, uid
from tests.fakes import FakeAllocationRepository, FakeNodeRepository, FakeServerNetworkStore, FakeServerRepository


class ServerNetworkContract:
    @pytest.fixture
    def stores(self) -> tuple[Any, Any, Any]:
        """(servers, allocations, network)"""
        raise NotImplementedError

    @pytest.fixture
    def held(self, stores):
        """A server on its own node holding port 25565, with 25566 and 25567 free."""
        servers, allocations, _ = stores
        node_id = f"nd_{uid()}"
        record = replace(server(f"tn_{uid()}", node_id), feature_limits=FeatureLimits(allocations=3))
        servers.add(record)
        allocations.add_many([allocation(node_id, p) for p in (25565, 25566, 25567)])
        allocations.assign(node_id, "10.0.0.5", 25565, record.uuid)
        return record

    def test_an_added_port_is_held_by_the_server_and_listed_on_it(self, stores, held):
        servers, allocations, network = stores

        network.add_allocation(held, "10.0.0.5", 25566, T1)

        assert servers.get(held.uuid).additional_allocations == (("10.0.0.5", 25566),)
        assert allocations.get(held.node_id, "10.0.0.5", 25566).server_id == held.uuid

    def test_a_taken_port_or_a_stale_read_changes_nothing(self, stores, held):
        servers, allocations, network = stores
        network.add_allocation(held, "10.0.0.5", 25566, T1)

        # Another server's port
        with pytest.raises(ConflictError):
            network.add_allocation(servers.get(held.uuid), "10.0.0.5", 25566, T1)
        # The server changed since it was read: neither item moves
        with pytest.raises(ConflictError):
            network.add_allocation(held, "10.0.0.5", 25567, T1)
        assert allocations.get(held.node_id, "10.0.0.5", 25567).server_id is None
        assert servers.get(held.uuid).additional_allocations == (("10.0.0.5", 25566),)

    def test_a_removed_port_is_free_again_without_its_notes(self, stores, held):
        servers, allocations, network = stores
        network.add_allocation(held, "10.0.0.5", 25566, T1)
        allocations.set_notes(held.node_id, "10.0.0.5", 25566, held.uuid, "query")

        network.remove_allocation(servers.get(held.uuid), "10.0.0.5", 25566, T1)

        freed = allocations.get(held.node_id, "10.0.0.5", 25566)
        assert freed.server_id is None and freed.notes is None
        assert servers.get(held.uuid).additional_allocations == ()

    def test_the_primary_port_swaps_with_an_extra_one(self, stores, held):
        servers, _, network = stores
        network.add_allocation(held, "10.0.0.5", 25566, T1)

        network.set_primary(servers.get(held.uuid), "10.0.0.5", 25566, T1)

        after = servers.get(held.uuid)
        assert after.allocation == ("10.0.0.5", 25566)
        assert after.additional_allocations == (("10.0.0.5", 25565),)
        with pytest.raises(ConflictError):
            network.set_primary(held, "10.0.0.5", 25566, T1)  # a stale read

    def test_the_image_changes(self, stores, held):
        servers, _, network = stores

        network.set_image(held, "img:2", T1)

        assert servers.get(held.uuid).docker_image == "img:2"

    def test_notes_belong_to_the_holder_only(self, stores, held):
        _, allocations, _ = stores

        saved = allocations.set_notes(held.node_id, "10.0.0.5", 25565, held.uuid, "main")

        assert saved.notes == "main"
        assert allocations.set_notes(held.node_id, "10.0.0.5", 25565, held.uuid, None).notes is None
        with pytest.raises(NotFoundError):
            allocations.set_notes(held.node_id, "10.0.0.5", 25566, held.uuid, "not mine")


class TestServerNetworkOnFake(ServerNetworkContract):
    @pytest.fixture
    def stores(self) -> tuple[Any, Any, Any]:
        servers, allocations = FakeServerRepository(), FakeAllocationRepository(FakeNodeRepository())
        return servers, allocations, FakeServerNetworkStore(servers, allocations)


class TestServerNetworkOnDynamo(ServerNetworkContract):
    @pytest.fixture
    def stores(self, request: pytest.FixtureRequest) -> tuple[Any, Any, Any]:
        bootstrap = _dynamo(request)
        return bootstrap.server_repository(), bootstrap.allocation_repository(), bootstrap.server_network_store()
