"""``PteroIds`` and ``PteroRecords`` over their fakes (tests/fakes.py) and the DynamoDB adapters on
moto: the same behaviour, so the Pterodactyl services tested on the fakes hold for production."""

from __future__ import annotations

from typing import Any

import pytest

from mamba.domain.errors import ConflictError
from tests.fakes import FakePteroIds, FakePteroRecords

SERVER = "3f2a9c1e-0b6d-4f1a-9d7e-1c2b3a4d5e6f"
TWIN = "3f2a9c1e-ffff-4f1a-9d7e-1c2b3a4d5e6f"  # the same first 8 characters


class PteroIdsContract:
    @pytest.fixture
    def ids(self) -> Any:
        raise NotImplementedError

    def test_the_first_use_hands_out_the_next_number_per_kind_and_keeps_it(self, ids):
        first = ids.number("node", "node_a")
        second = ids.number("node", "node_b")
        other_kind = ids.number("location", "fra")

        assert (first.number, second.number, other_kind.number) == (1, 2, 1)
        assert ids.number("node", "node_a") == first
        assert ids.by_number("node", 2) == second
        assert ids.by_number("node", 3) is None and ids.by_number("location", 2) is None

    def test_a_scope_is_kept_with_the_id(self, ids):
        claimed = ids.number("allocation", "node_a|10.0.0.1|25565", "node_a")

        assert claimed.scope == "node_a"
        assert ids.by_number("allocation", claimed.number).scope == "node_a"

    def test_numbers_claims_the_missing_ones_and_reads_the_rest(self, ids):
        known = ids.number("user", "usr_a")

        found = ids.numbers("user", {"usr_a": None, "usr_b": None, "usr_c": None})

        assert found["usr_a"] == known
        assert sorted(r.number for r in found.values()) == [1, 2, 3]
        assert ids.by_number("user", found["usr_c"].number).ref == "usr_c"

    def test_two_racing_claims_of_one_object_agree_and_the_losers_number_is_never_reused(self, ids):
        winner = ids.number("egg", "bp_paper")

        loser = ids._claim("egg", "bp_paper", None)  # the loser read "absent" before the winner wrote
        after = ids.number("egg", "bp_vanilla")

        assert loser == winner
        assert after.number == 3
        assert ids.by_number("egg", 2) is None

    def test_an_external_id_is_one_objects_and_can_move_or_go(self, ids):
        alice = ids.set_external(ids.number("user", "usr_alice"), "billing-1")
        bob = ids.number("user", "usr_bob")

        with pytest.raises(ConflictError):
            ids.set_external(bob, "billing-1")
        assert ids.by_external("user", "billing-1") == alice
        assert ids.by_number("user", alice.number).external_id == "billing-1"

        moved = ids.set_external(alice, "billing-2")
        assert ids.by_external("user", "billing-1") is None
        assert ids.by_external("user", "billing-2") == moved == ids.number("user", "usr_alice")
        assert ids.set_external(bob, "billing-1").external_id == "billing-1"

        cleared = ids.set_external(moved, None)
        assert cleared.external_id is None and ids.by_external("user", "billing-2") is None

    def test_a_server_claims_its_identifier_unless_another_server_holds_it(self, ids):
        server = ids.number("server", SERVER, "tn_a")
        twin = ids.number("server", TWIN, "tn_b")

        assert ids.by_identifier(SERVER[:8]) == server
        assert ids.by_identifier(SERVER[:8].upper()) == server
        assert twin.number == server.number + 1
        assert ids.by_number("server", twin.number).scope == "tn_b"

    def test_forget_drops_every_side_and_the_number_is_not_handed_out_again(self, ids):
        server = ids.set_external(ids.number("server", SERVER, "tn_a"), "whmcs-9")

        ids.forget(server)

        assert ids.by_number("server", server.number) is None
        assert ids.by_external("server", "whmcs-9") is None
        assert ids.by_identifier(SERVER[:8]) is None
        again = ids.number("server", SERVER, "tn_a")
        assert again.number == server.number + 1 and again.external_id is None


class TestPteroIdsOnFake(PteroIdsContract):
    @pytest.fixture
    def ids(self) -> Any:
        return FakePteroIds()


class TestPteroIdsOnDynamo(PteroIdsContract):
    @pytest.fixture
    def ids(self, aws: None) -> Any:
        from mamba import bootstrap
        from mamba.adapters.dynamo.ptero_ids import DynamoPteroIds

        bootstrap.dynamo_tables()
        return DynamoPteroIds()


class PteroRecordsContract:
    @pytest.fixture
    def records(self) -> Any:
        raise NotImplementedError

    def test_a_record_is_read_back_and_listed_by_kind(self, records):
        records.put("location", "fra", {"long": "Frankfurt", "created_at": "2026-12-05T10:00:00+00:00"})
        records.put("location", "ams", {"long": None})
        records.put("user", "usr_a", {"username": "ada"})

        assert records.get("location", "fra") == {"long": "Frankfurt", "created_at": "2026-12-05T10:00:00+00:00"}
        assert records.get("location", "nope") is None
        assert records.list("location") == {"ams": {"long": None}, "fra": records.get("location", "fra")}
        assert records.get_many("location", ["fra", "nope"]) == {"fra": records.get("location", "fra")}

    def test_add_claims_a_name_once(self, records):
        records.add("username", "ada", {"user": "usr_a"})

        with pytest.raises(ConflictError):
            records.add("username", "ada", {"user": "usr_b"})
        assert records.get("username", "ada") == {"user": "usr_a"}

    def test_put_replaces_and_delete_removes(self, records):
        records.put("user", "usr_a", {"username": "ada", "language": "en"})
        records.put("user", "usr_a", {"username": "ada2"})
        assert records.get("user", "usr_a") == {"username": "ada2"}

        records.delete("user", "usr_a")
        records.delete("user", "usr_a")  # already gone: not an error
        assert records.get("user", "usr_a") is None and records.list("user") == {}


class TestPteroRecordsOnFake(PteroRecordsContract):
    @pytest.fixture
    def records(self) -> Any:
        return FakePteroRecords()


class TestPteroRecordsOnDynamo(PteroRecordsContract):
    @pytest.fixture
    def records(self, aws: None) -> Any:
        from mamba import bootstrap
        from mamba.adapters.dynamo.ptero_records import DynamoPteroRecords

        bootstrap.dynamo_tables()
        return DynamoPteroRecords()
