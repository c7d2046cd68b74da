"""A Step Functions Catch payload becomes a {code, message} a user can read."""

from __future__ import annotations

import json

import pytest

from mamba.workflow_errors import readable_error


@pytest.mark.parametrize(
    ("caught", "expected"),
    [
        pytest.param(
            {"Error": "QuotaExceededError", "Cause": json.dumps({"errorMessage": "Plan allows 2 servers."})},
            {"code": "QUOTA_EXCEEDED", "message": "Plan allows 2 servers."},
        ),
        (
            {"Error": "States.Timeout", "Cause": ""},
            {"code": "TIMEOUT", "message": "The step took too long and was stopped."},
        ),
        ({"Error": "States.TaskFailed"}, {"code": "TASK_FAILED", "message": "A step failed."}),
        (
            {"Error": "Lambda.ServiceException", "Cause": "throttled"},
            {"code": "TRANSIENT", "message": "throttled"},
        ),
        ({}, {"code": "TASK_FAILED", "message": "A step failed."}),
        pytest.param(
            {"Error": "WingsUnavailableError", "Cause": "{not json"},
            {"code": "NODE_UNAVAILABLE", "message": "{not json"},
        ),
        (
            {"Error": "TransientError", "Cause": json.dumps({"errorType": "TransientError"})},
            {"code": "TRANSIENT", "message": json.dumps({"errorType": "TransientError"})},
        ),
        (
            {"code": "NOT_STARTED", "message": "The workflow could not start."},
            {"code": "NOT_STARTED", "message": "The workflow could not start."},
        ),
        ({"Error": "Error"}, {"code": "FAILED", "message": "The operation failed."}),
    ],
)
def test_readable_error_when_a_catch_hands_over_an_error(caught, expected):
    assert readable_error(caught) == expected
