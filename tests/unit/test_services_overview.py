"""services.overview on fakes: dead letters with their first error, and what a failure records."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from mamba.domain.errors import ValidationError
from mamba.services import overview as fleet
from tests.fakes import FakeDeadLetterErrors, FakeDeadLetterQueue

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_a_listed_dead_letter_carries_its_event_and_first_error_and_a_bad_body_only_its_id():
    queue, errors = FakeDeadLetterQueue(), FakeDeadLetterErrors()
    queue.add(json.dumps({"id": "evt_1", "type": "invoice.paid"}))
    queue.add("not json")
    fleet.record_failure(errors, "evt_1", ValidationError("Bad plan."), NOW)
    fleet.record_failure(errors, "evt_1", RuntimeError("a later one"), NOW)

    listed = fleet.list_dead_letters(queue, errors)

    assert [(d.event_id, d.type, d.first_error) for d in listed] == [
        ("evt_1", "invoice.paid", "VALIDATION_ERROR: Bad plan."),
        (None, None, None),
    ]
    assert queue.depth() == 2  # listing consumed nothing


def test_a_failure_other_than_a_domain_error_records_only_its_class():
    errors = FakeDeadLetterErrors()

    fleet.record_failure(errors, "evt_2", KeyError("sk_live_secret"), NOW)

    assert errors.errors == {"evt_2": "KeyError"}


def test_recording_a_failure_never_raises_when_the_store_is_down():
    errors = FakeDeadLetterErrors()
    errors.down = True

    fleet.record_failure(errors, "evt_3", RuntimeError("boom"), NOW)

    assert errors.errors == {}
