"""The DynamoDB error translation (``mamba.adapters.dynamo.errors``) on the exceptions pynamodb
and botocore raise, built by hand (the same shapes moto and DynamoDB produce; the moto run
is tests/integration/test_dynamo_errors.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from pynamodb.exceptions import (
    CancellationReason,
    DoesNotExist,
    PutError,
    TransactWriteError,
    UpdateError,
    VerboseClientError,
)

from mamba.adapters.dynamo import errors
from mamba.adapters.dynamo.errors import SKIP, Cancellation, translate
from mamba.domain.errors import ConflictError, DependencyUnavailableError, NotFoundError


def _client_error(code: str, operation: str = "PutItem") -> VerboseClientError:
    return VerboseClientError({"Error": {"Code": code, "Message": code}}, operation)


def _put_error(code: str) -> PutError:
    return PutError("Failed to put item", _client_error(code))


def _cancelled(*reasons: str | None) -> TransactWriteError:
    cause = VerboseClientError(
        {"Error": {"Code": errors.TRANSACTION_CANCELLED, "Message": "cancelled"}},
        "TransactWriteItems",
        cancellation_reasons=[CancellationReason(code=r) if r else None for r in reasons],
    )
    return TransactWriteError("Failed to write transaction items", cause)


def _raise(exc: Exception) -> None:
    raise exc


def test_a_failed_single_write_condition_raises_the_sites_error_from_the_cause():
    cause = _put_error("ConditionalCheckFailedException")

    with pytest.raises(ConflictError, match="exists") as caught:
        with translate(on_condition=ConflictError("The thing exists.")):
            _raise(cause)

    assert caught.value.__cause__ is cause


def test_the_two_condition_codes_are_the_single_write_code_and_the_transaction_reason():
    assert errors.CONDITION_FAILED == "ConditionalCheckFailedException"
    assert errors.CONDITION_FAILED_REASON == "ConditionalCheckFailed"
    assert errors.condition_failed(_put_error("ConditionalCheckFailedException"))
    assert errors.condition_failed(_cancelled(None, "ConditionalCheckFailed"))
    # the reason code is never a single write's code, nor the other way round
    assert not errors.condition_failed(_put_error("ConditionalCheckFailed"))
    assert not errors.condition_failed(_cancelled("ConditionalCheckFailedException"))


def test_cancellation_reasons_follow_the_items_in_order_and_none_where_an_item_was_no_reason():
    assert errors.cancellation_reasons(_cancelled(None, "ConditionalCheckFailed", None)) == (
        None,
        "ConditionalCheckFailed",
        None,
    )
    assert errors.cancellation_reasons(_put_error("ConditionalCheckFailedException")) == ()
    raw = ClientError(
        {
            "Error": {"Code": errors.TRANSACTION_CANCELLED, "Message": "x"},
            "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}],
        },
        "TransactWriteItems",
    )
    assert errors.cancellation_reasons(raw) == (None, "ConditionalCheckFailed")


def test_a_cancelled_transaction_is_answered_per_item():
    seen: list[Cancellation] = []

    def refused(cancelled: Cancellation) -> ConflictError | None:
        seen.append(cancelled)
        return ConflictError("second") if cancelled.failed(1) else None

    with pytest.raises(ConflictError, match="second"):
        with translate(on_cancel=refused, on_condition=ConflictError("any")):
            _raise(_cancelled(None, "ConditionalCheckFailed"))

    assert seen[0].failed_positions == frozenset({1})
    assert (seen[0].failed(0), seen[0].failed(0, 1), seen[0].failed()) == (False, True, True)


def test_a_cancellation_its_handler_does_not_answer_falls_back_to_on_condition():
    with pytest.raises(ConflictError, match="any"):
        with translate(on_cancel=lambda c: None, on_condition=ConflictError("any")):
            _raise(_cancelled("ConditionalCheckFailed", None))


def test_skip_swallows_the_failed_condition_and_says_so():
    cause = _cancelled(None, "ConditionalCheckFailed")

    with translate(on_condition=SKIP) as outcome:
        _raise(cause)

    assert outcome.condition_failed is True
    assert outcome.error is cause
    assert outcome.cancellation == Cancellation((None, "ConditionalCheckFailed"))


def test_a_write_that_succeeds_reports_no_failed_condition():
    with translate(on_condition=SKIP) as outcome:
        pass

    assert (outcome.condition_failed, outcome.error, outcome.cancellation) == (False, None, None)


def test_a_missing_item_raises_on_missing_and_is_left_alone_without_it():
    with pytest.raises(NotFoundError):
        with translate(on_missing=NotFoundError("Gone.")):
            _raise(DoesNotExist())
    with pytest.raises(DoesNotExist):
        with translate(unavailable="never for a missing item"):
            _raise(DoesNotExist())


@pytest.mark.parametrize(
    "failure",
    [
        _put_error("ProvisionedThroughputExceededException"),
        _put_error("ThrottlingException"),
        _put_error("InternalServerError"),
        UpdateError("Failed to update item", EndpointConnectionError(endpoint_url="http://dynamodb")),
        _cancelled("ThrottlingError", None),
        _cancelled("TransactionConflict"),
        _client_error("RequestLimitExceeded"),
    ],
)
def test_throttling_and_unavailability_become_dependency_unavailable(failure):
    with pytest.raises(DependencyUnavailableError) as caught:
        with translate():
            _raise(failure)

    assert caught.value.__cause__ is failure


def test_anything_else_is_reraised_unchanged_unless_the_site_names_its_unavailability():
    bug = _put_error("ValidationException")

    with pytest.raises(PutError) as caught:
        with translate(on_condition=ConflictError("not this")):
            _raise(bug)
    assert caught.value is bug

    with pytest.raises(DependencyUnavailableError, match="could not be saved"):
        with translate(unavailable="The thing could not be saved."):
            _raise(bug)


def test_a_failed_condition_the_site_does_not_expect_is_treated_like_any_other_failure():
    with pytest.raises(DependencyUnavailableError, match="could not be saved"):
        with translate(unavailable="The thing could not be saved."):
            _raise(_put_error("ConditionalCheckFailedException"))


def test_domain_errors_and_other_exceptions_raised_inside_pass_through():
    with pytest.raises(NotFoundError):
        with translate(on_condition=ConflictError("no"), unavailable="no"):
            _raise(NotFoundError("from a read inside the block"))
    with pytest.raises(KeyError):
        with translate(unavailable="no"):
            _raise(KeyError("a bug"))
