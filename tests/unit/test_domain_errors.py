"""The error family: each class carries its status and stable code; codes are unique."""

from __future__ import annotations

import inspect

import pytest

from mamba.domain import errors


def _domain_error_classes():
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.DomainError) and cls is not errors.DomainError
    ]


@pytest.mark.parametrize(
    ("cls", "status", "code"),
    [
        (errors.ValidationError, 400, "VALIDATION_ERROR"),
        (errors.UnauthorizedError, 401, "UNAUTHORIZED"),
        (errors.PaymentRequiredError, 402, "PAYMENT_REQUIRED"),
        (errors.ForbiddenError, 403, "FORBIDDEN"),
        (errors.QuotaExceededError, 403, "QUOTA_EXCEEDED"),
        (errors.NotFoundError, 404, "NOT_FOUND"),
        (errors.MethodNotAllowedError, 405, "METHOD_NOT_ALLOWED"),
        (errors.ConflictError, 409, "CONFLICT"),
        (errors.PayloadTooLargeError, 413, "PAYLOAD_TOO_LARGE"),
        (errors.UnsupportedMediaTypeError, 415, "UNSUPPORTED_MEDIA_TYPE"),
        (errors.BillingDisabledError, 503, "BILLING_DISABLED"),
        (errors.DependencyUnavailableError, 503, "SERVICE_UNAVAILABLE"),
        (errors.TransientError, 503, "TRANSIENT"),
    ],
)
def test_error_class_carries_status_and_code(cls, status, code):
    err = cls("message", {"k": "v"})

    assert (err.status, err.code, err.message, err.details, str(err)) == (
        status,
        code,
        "message",
        {"k": "v"},
        "message",
    )


def test_every_error_class_has_a_unique_code_and_an_http_status():
    classes = _domain_error_classes()
    codes = [cls.code for cls in classes]

    assert len(codes) == len(set(codes))
    assert all(400 <= cls.status < 600 for cls in classes)
    assert all(cls.__name__.endswith("Error") for cls in classes)


def test_details_default_to_a_fresh_dict_when_not_given():
    a, b = errors.NotFoundError("a"), errors.NotFoundError("b")

    a.details["x"] = 1

    assert b.details == {}


def test_rate_limited_error_keeps_retry_after():
    err = errors.RateLimitedError("slow down", retry_after=30)

    assert (err.status, err.code, err.retry_after) == (429, "RATE_LIMITED", 30)


def test_config_error_is_not_a_domain_error_so_no_boundary_can_answer_it():
    assert not issubclass(errors.ConfigError, errors.DomainError)
