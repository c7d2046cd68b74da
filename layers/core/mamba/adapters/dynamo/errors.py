"""Errors at the DynamoDB boundary: the one place that reads botocore's and pynamodb's exceptions.

Every DynamoDB call in ``mamba.adapters.dynamo`` (and in the Wings circuit breaker's store and the
migrations) whose failure means something runs inside ``translate``, which turns what went wrong
into the domain error the call site names:

* a failed condition of a single write (``PutError``/``UpdateError``/``DeleteError`` whose
  cause is ``ConditionalCheckFailedException``) → ``on_condition``;
* a cancelled transaction (``TransactWriteError`` with ``TransactionCanceledException``) →
  ``on_cancel(Cancellation)``, which sees one reason per item in the order pynamodb sent them;
  without ``on_cancel``, or when it answers None, a transaction in which some item's
  condition failed → ``on_condition``;
* ``DoesNotExist`` (a ``Model.get`` of a missing key) → ``on_missing``;
* anything else DynamoDB or the network said → ``DependencyUnavailableError(unavailable)``
  when the site gives that message; without one, only throttling, capacity and service
  faults (and network errors) become ``DependencyUnavailableError`` and the rest is re-raised
  unchanged (a bug, such as a malformed expression, must stay a 500).

``SKIP`` as an answer swallows the failed condition instead: the ``Outcome`` yielded by
``translate`` then says ``condition_failed`` (for "already done" or "not mine" writes whose
caller returns False or reads the winner).

Two different strings mean "the condition failed", and both are correct: a single write's
error code is ``ConditionalCheckFailedException``, while each item of a cancelled transaction
carries the reason code ``ConditionalCheckFailed`` (DynamoDB's API reference; moto 5.2.5 sends
the same two). Sites never compare either string themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactGetError, TransactWriteError

from mamba.domain.errors import DependencyUnavailableError, DomainError

CONDITION_FAILED = "ConditionalCheckFailedException"  # the error code of a single conditional write
CONDITION_FAILED_REASON = "ConditionalCheckFailed"  # the reason code of one item of a cancelled transaction
TRANSACTION_CANCELLED = "TransactionCanceledException"

# Error codes that say "DynamoDB is busy or failing", not "the request is wrong": retrying later may work.
BUSY_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)
# Reason codes of a cancelled transaction's items that mean the same.
BUSY_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"})
DEFAULT_UNAVAILABLE = "The database is busy; try again."


class _Skip:
    """The answer that swallows a failed condition (see ``Outcome.condition_failed``)."""

    def __repr__(self) -> str:
        return "SKIP"


SKIP = _Skip()
Answer = DomainError | _Skip | None


@dataclass(frozen=True)
class Cancellation:
    """Why a transaction was cancelled: one reason code per item, in the order the items were
    sent (pynamodb sends condition checks, then deletes, then puts, then updates), None for an
    item that was not a reason."""

    reasons: tuple[str | None, ...]

    def failed(self, *positions: int) -> bool:
        """Whether the condition of an item at one of ``positions`` failed (of any item when none are given)."""
        wanted = positions or range(len(self.reasons))
        return any(0 <= i < len(self.reasons) and self.reasons[i] == CONDITION_FAILED_REASON for i in wanted)

    @property
    def failed_positions(self) -> frozenset[int]:
        return frozenset(i for i, code in enumerate(self.reasons) if code == CONDITION_FAILED_REASON)

    @property
    def concurrent(self) -> bool:
        """Another transaction or write touched an item at the same moment (no condition failed)."""
        return any(code == "TransactionConflict" for code in self.reasons)


@dataclass
class Outcome:
    """What ``translate`` swallowed: set only when a failed condition was answered with ``SKIP``."""

    condition_failed: bool = False
    cancellation: Cancellation | None = None
    error: Exception | None = field(default=None, repr=False)


def response_code(exc: BaseException) -> str | None:
    """DynamoDB's error code behind a pynamodb exception or a botocore ``ClientError``."""
    if isinstance(exc, PynamoDBException):
        return exc.cause_response_code
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def cancellation_reasons(exc: BaseException) -> tuple[str | None, ...]:
    """One reason code per item of a cancelled transaction, in order (empty when it was not one)."""
    if isinstance(exc, TransactWriteError | TransactGetError):
        return tuple(reason.code if reason else None for reason in exc.cancellation_reasons)
    if isinstance(exc, ClientError):
        raw = exc.response.get("CancellationReasons") or []
        return tuple(None if r.get("Code") in (None, "None") else str(r["Code"]) for r in raw)
    return ()


def condition_failed(exc: BaseException) -> bool:
    """A single write's condition failed, or an item's condition cancelled a transaction."""
    return response_code(exc) == CONDITION_FAILED or CONDITION_FAILED_REASON in cancellation_reasons(exc)


def is_busy(exc: BaseException) -> bool:
    """DynamoDB throttled or failed, or the network did not reach it: retrying later may work."""
    if isinstance(exc, BotoCoreError) or isinstance(getattr(exc, "cause", None), BotoCoreError):
        return True
    if response_code(exc) in BUSY_CODES:
        return True
    reasons = [r for r in cancellation_reasons(exc) if r is not None]
    return bool(reasons) and all(r in BUSY_REASONS for r in reasons)


def _answer(exc: Exception, on_condition: Answer, on_cancel: Callable[[Cancellation], Answer] | None) -> Answer:
    if response_code(exc) == CONDITION_FAILED:
        return on_condition
    reasons = cancellation_reasons(exc)
    if not reasons:
        return None
    cancellation = Cancellation(reasons)
    answer = on_cancel(cancellation) if on_cancel is not None else None
    if answer is None and cancellation.failed():
        answer = on_condition
    return answer


@contextmanager
def translate(
    *,
    on_condition: Answer = None,
    on_cancel: Callable[[Cancellation], Answer] | None = None,
    on_missing: DomainError | None = None,
    unavailable: str | None = None,
) -> Iterator[Outcome]:
    """Run DynamoDB calls and raise the domain error each failure means (see the module doc).

    ``on_condition``/``on_cancel`` answers: a ``DomainError`` (raised ``from`` the cause),
    ``SKIP`` (swallowed; the yielded ``Outcome`` says so) or None (treated like any other
    failure). Domain errors raised inside the block pass through untouched."""
    outcome = Outcome()
    try:
        yield outcome
    except DoesNotExist as exc:
        if on_missing is None:
            raise
        raise on_missing from exc
    except (PynamoDBException, ClientError, BotoCoreError) as exc:
        answer = _answer(exc, on_condition, on_cancel)
        if isinstance(answer, _Skip):
            reasons = cancellation_reasons(exc)
            outcome.condition_failed = True
            outcome.cancellation = Cancellation(reasons) if reasons else None
            outcome.error = exc
            return
        if answer is not None:
            raise answer from exc
        if unavailable is not None or is_busy(exc):
            raise DependencyUnavailableError(unavailable or DEFAULT_UNAVAILABLE) from exc
        raise


def get_or_none[M](model: type[M], *key: Any, **options: Any) -> M | None:
    """``model.get(*key, **options)``, or None when the item does not exist."""
    try:
        return model.get(*key, **options)  # type: ignore[attr-defined,no-any-return]
    except DoesNotExist:
        return None


__all__ = [
    "CONDITION_FAILED",
    "CONDITION_FAILED_REASON",
    "SKIP",
    "Answer",
    "Cancellation",
    "Outcome",
    "cancellation_reasons",
    "condition_failed",
    "get_or_none",
    "is_busy",
    "response_code",
    "translate",
]
