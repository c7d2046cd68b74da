"""mamba.adapters.dynamo.prefetch: what a request read ahead is taken once, by that request only."""

from __future__ import annotations

from mamba.adapters.dynamo import prefetch
from mamba.observability import request_context

SERVER = ("SERVER#s1", "PROFILE")
RAW = {"pk": {"S": "SERVER#s1"}, "sk": {"S": "PROFILE"}}


def test_nothing_is_kept_when_outside_a_request() -> None:
    prefetch.keep({SERVER: RAW})

    assert prefetch.active() is False
    assert prefetch.take(SERVER) is None


def test_an_item_is_taken_once_when_kept_in_the_request() -> None:
    with request_context("req-once-0001"):
        prefetch.keep({SERVER: RAW})

        assert prefetch.take(SERVER) == prefetch.Kept(RAW)
        assert prefetch.take(SERVER) is None  # a second read in the same request reads again


def test_a_missing_item_is_kept_as_missing_when_the_batch_did_not_find_it() -> None:
    with request_context("req-miss-0001"):
        prefetch.keep({SERVER: None})

        assert prefetch.take(SERVER) == prefetch.Kept(None)


def test_a_later_request_never_sees_what_an_earlier_one_kept() -> None:
    with request_context("req-first-001"):
        prefetch.keep({SERVER: RAW})
    with request_context("req-second-01"):
        assert prefetch.take(SERVER) is None


def test_keeps_of_one_request_add_up_when_read_in_two_batches() -> None:
    node = ("NODE#n1", "PROFILE")
    with request_context("req-merge-001"):
        prefetch.keep({SERVER: RAW})
        prefetch.keep({node: None})

        assert prefetch.take(SERVER) == prefetch.Kept(RAW)
        assert prefetch.take(node) == prefetch.Kept(None)
