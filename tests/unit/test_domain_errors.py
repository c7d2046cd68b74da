"""The error family: each class carries its status and stable code; codes are unique.

The uniqueness test sees every ``DomainError`` subclass of the product, wherever it is defined
(the guard's, the webhook's, the migration runner's, web.py's): it imports every module under
``mamba`` and ``functions`` and walks ``__subclasses__`` from ``DomainError``."""

from __future__ import annotations

import functools
import importlib
import json
import pkgutil
from collections import defaultdict
from pathlib import Path

import pytest

from mamba.domain import errors

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("mamba", "functions")


@functools.cache
def _domain_error_classes() -> tuple[type[errors.DomainError], ...]:
    """Every subclass of DomainError defined in the product (test doubles are not counted)."""
    for name in PRODUCT_PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            importlib.import_module(module.name)
    found: set[type[errors.DomainError]] = set()
    pending = [errors.DomainError]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return tuple(
        sorted(
            (cls for cls in found if cls.__module__.split(".")[0] in PRODUCT_PACKAGES),
            key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
        )
    )


def _declared_codes() -> dict[str, list[str]]:
    """Code → the classes that declare it themselves (a subclass without its own ``code`` is the
    same error to the client, from a narrower cause, e.g. WingsFileDeniedError's FILE_DENIED)."""
    declared: dict[str, list[str]] = defaultdict(list)
    for cls in (errors.DomainError, *_domain_error_classes()):
        if "code" in vars(cls):
            declared[cls.code].append(f"{cls.__module__}.{cls.__qualname__}")
    return declared


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


def test_the_error_classes_defined_outside_domain_errors_are_seen():
    classes = _domain_error_classes()

    # By name, wherever they live today (the guard's, the webhook's, the migrations', web.py's):
    # modules move in refactors, the classes stay.
    assert {
        "TenantSuspendedError",
        "InvalidSignatureError",
        "MigrationError",
        "SeedRefusedError",
        "InternalError",
        "WingsFileDeniedError",
    } <= {cls.__qualname__ for cls in classes}
    assert {cls.__module__ for cls in classes} - {"mamba.domain.errors"}


def test_every_error_class_has_a_unique_code_and_an_http_status():
    classes = _domain_error_classes()

    shared = {code: owners for code, owners in _declared_codes().items() if len(owners) > 1}
    assert shared == {}, "one code, one class: give each class its own code or let it inherit its parent's"
    assert all(400 <= cls.status < 600 for cls in classes)
    assert all(cls.__name__.endswith("Error") for cls in classes)


def test_every_code_is_in_the_web_apps_list_so_it_has_a_sentence_in_every_language():
    # web/src/api/error-codes.json is what the web app's error test (web/src/lib/errors.test.ts)
    # checks the en and de sentences against; scripts/gen-openapi-types writes it.
    listed = json.loads((ROOT / "web" / "src" / "api" / "error-codes.json").read_text())

    assert sorted(_declared_codes()) == listed, "run scripts/gen-openapi-types and add the sentences"


def test_details_default_to_a_fresh_dict_when_not_given():
    a, b = errors.NotFoundError("a"), errors.NotFoundError("b")

    a.details["x"] = 1

    assert b.details == {}


def test_rate_limited_error_keeps_retry_after():
    err = errors.RateLimitedError("slow down", retry_after=30)

    assert (err.status, err.code, err.retry_after) == (429, "RATE_LIMITED", 30)


def test_config_error_is_not_a_domain_error_so_no_boundary_can_answer_it():
    assert not issubclass(errors.ConfigError, errors.DomainError)
