"""The task-token handshake (mamba.services.task_waits) over the fakes: whichever of the
waiting task and the node's callback runs second resumes the workflow, exactly once."""

from __future__ import annotations

import pytest

from mamba.services import task_waits
from mamba.services.task_waits import Outcome, WaitPorts
from tests.fakes import FakeTaskCallbacks, FakeTaskTokens

SUBJECT = task_waits.backup_subject("b1")
DONE = Outcome(output={"state": "completed"})


def ports() -> tuple[WaitPorts, FakeTaskTokens, FakeTaskCallbacks]:
    tokens, callbacks = FakeTaskTokens(), FakeTaskCallbacks()
    return WaitPorts(tokens, callbacks, epoch=lambda: 1_000.0), tokens, callbacks


def test_the_callback_after_the_wait_resumes_the_parked_token():
    p, tokens, callbacks = ports()
    record: list[Outcome] = []

    task_waits.park(p, SUBJECT, "tok-1", 60, lambda: record[-1] if record else None)
    record.append(DONE)  # the callback saves the record...
    delivered = task_waits.deliver(p, SUBJECT, DONE)  # ...then resumes

    assert delivered is True
    assert callbacks.delivered == {"tok-1": ("success", {"state": "completed"})}
    assert tokens.parked == {}


def test_the_callback_before_the_wait_is_delivered_by_the_waiting_task():
    p, tokens, callbacks = ports()

    assert task_waits.deliver(p, SUBJECT, DONE) is False  # nothing waits yet
    answer = task_waits.park(p, SUBJECT, "tok-1", 60, lambda: DONE)  # the record already says done

    assert answer == {"waiting": SUBJECT, "delivered": True}
    assert callbacks.delivered == {"tok-1": ("success", {"state": "completed"})}
    assert tokens.parked == {}


def test_both_sides_delivering_resume_the_task_once():
    p, _, callbacks = ports()
    task_waits.park(p, SUBJECT, "tok-1", 60, lambda: None)

    first = task_waits.deliver(p, SUBJECT, DONE)
    task_waits.park(p, SUBJECT, "tok-1", 60, lambda: DONE)  # a retried waiting task sees the record

    assert first is True and list(callbacks.delivered) == ["tok-1"]


def test_a_failure_is_delivered_with_its_error_name_and_readable_cause():
    p, _, callbacks = ports()
    task_waits.park(p, SUBJECT, "tok-1", 60, lambda: None)

    task_waits.deliver(p, SUBJECT, Outcome.failed("BackupFailedError", "Wings reported that the backup failed."))

    assert callbacks.delivered["tok-1"] == ("failure", ("BackupFailedError", "Wings reported that the backup failed."))


def test_step_functions_down_at_the_callback_keeps_the_token_for_the_retry():
    p, tokens, callbacks = ports()
    task_waits.park(p, SUBJECT, "tok-1", 60, lambda: None)
    callbacks.down = True

    assert task_waits.deliver(p, SUBJECT, DONE) is False
    assert tokens.token(SUBJECT) == "tok-1"
    callbacks.down = False
    assert task_waits.deliver(p, SUBJECT, DONE) is True


def test_a_token_whose_task_ended_is_forgotten_and_a_new_wait_is_not_disturbed():
    p, tokens, callbacks = ports()
    task_waits.park(p, SUBJECT, "tok-old", 60, lambda: None)
    callbacks.gone.add("tok-old")  # it timed out

    assert task_waits.deliver(p, SUBJECT, DONE) is False
    assert tokens.parked == {}
    task_waits.park(p, SUBJECT, "tok-new", 60, lambda: None)
    assert task_waits.deliver(p, SUBJECT, DONE) is True


@pytest.mark.parametrize("timeout", [1, 60, 10_800])
def test_the_parked_token_lives_a_day_past_its_waits_timeout(timeout: int):
    p, tokens, _ = ports()

    task_waits.park(p, SUBJECT, "tok-1", timeout, lambda: None)

    assert tokens.parked[SUBJECT] == ("tok-1", 1_000 + timeout + task_waits.TOKEN_GRACE_SECONDS)


def test_a_waiting_task_without_its_token_is_a_bug_not_a_silent_wait():
    p, _, _ = ports()

    with pytest.raises(ValueError):
        task_waits.park(p, SUBJECT, "", 60, lambda: None)
