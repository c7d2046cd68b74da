"""The one error family. Every error a service can raise derives from DomainError.

Each subclass carries its HTTP status and stable error code, so the boundary
translates errors with one table lookup (``mamba.web.error_response``) and never
branches on message text.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class ValidationError(DomainError):
    status = 400
    code = "VALIDATION_ERROR"


class UnauthorizedError(DomainError):
    status = 401
    code = "UNAUTHORIZED"


class PaymentRequiredError(DomainError):
    status = 402
    code = "PAYMENT_REQUIRED"


class ForbiddenError(DomainError):
    status = 403
    code = "FORBIDDEN"


class TenantLimitError(ForbiddenError):
    """The account already owns as many tenants as it may create (``MAX_TENANTS_PER_ACCOUNT``)."""

    code = "TENANT_LIMIT"


class QuotaExceededError(DomainError):
    status = 403
    code = "QUOTA_EXCEEDED"


class NotFoundError(DomainError):
    status = 404
    code = "NOT_FOUND"


class MethodNotAllowedError(DomainError):
    status = 405
    code = "METHOD_NOT_ALLOWED"


class ConflictError(DomainError):
    status = 409
    code = "CONFLICT"


class PayloadTooLargeError(DomainError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaTypeError(DomainError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class RateLimitedError(DomainError):
    status = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: int, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details)
        self.retry_after = retry_after


class BillingDisabledError(DomainError):
    status = 503
    code = "BILLING_DISABLED"


class DependencyUnavailableError(DomainError):
    """A backing service (DynamoDB, S3, Step Functions, a node) did not answer; retrying later may work."""

    status = 503
    code = "SERVICE_UNAVAILABLE"


class TransientError(DomainError):
    """Raised by workflow tasks for failures the state machine should retry."""

    status = 503
    code = "TRANSIENT"


class ConfigError(Exception):
    """The configuration is unusable; the process must not start. The message names the variable."""


# --- Wings nodes (raised by mamba.adapters.wings; the workflows retry or catch them by class name) ---


class WingsUnavailableError(DependencyUnavailableError):
    """The node did not answer usefully: network error, timeout, a 5xx, or its circuit breaker is open."""

    status = 503
    code = "NODE_UNAVAILABLE"


class WingsRejectedError(DomainError):
    """The node answered and refused (a 4xx); ``message`` carries Wings' own reason.

    409 by default; 422 when Wings said the data failed validation."""

    status = 409
    code = "WINGS_REJECTED"

    def __init__(self, message: str, details: dict[str, Any] | None = None, *, status: int = 409) -> None:
        super().__init__(message, details)
        self.status = status


class WingsUnauthorizedError(WingsRejectedError):
    """The node refused the panel's credentials (its 401 or 403 for a missing or wrong node token,
    wings-contract.md §2.1): the node answers, but this panel's token is not the one it holds.
    The caller sees the same 409 ``WINGS_REJECTED``; the node-health probe calls the node
    ``unauthorized``."""


class WingsNotFoundError(NotFoundError):
    """The node does not know the server, file, directory or backup (404, or Wings 1.11's 500 for a missing path)."""

    status = 404
    code = "WINGS_NOT_FOUND"


# --- game servers (mamba.services.servers and the provision_server workflow) ---


class NoCapacityError(ConflictError):
    """No node can take the server: none matches the location/tag, allows the tenant, is out of
    maintenance and has the memory, disk and a free allocation it needs."""

    status = 409
    code = "NO_CAPACITY"


class AllocationTakenError(ConflictError):
    """The allocation was assigned to another server between reading it and reserving it."""

    code = "ALLOCATION_TAKEN"


class BlueprintInUseError(ConflictError):
    """A blueprint that servers still use cannot be deleted; ``details.servers`` says how many."""

    code = "BLUEPRINT_IN_USE"


class TenantServersChangedError(ConflictError):
    """Another create of the same tenant committed meanwhile: quotas must be checked again."""

    code = "TENANT_BUSY"


class InstallFailedError(DomainError):
    """Wings reported that the blueprint's install script failed."""

    status = 422
    code = "INSTALL_FAILED"


class InstallTimeoutError(DomainError):
    """Wings did not report the install within the workflow's deadline."""

    status = 504
    code = "INSTALL_TIMEOUT"


class StartTimeoutError(DomainError):
    """The server did not reach ``running`` within the workflow's deadline."""

    status = 504
    code = "START_TIMEOUT"


class WorkflowInterruptedError(DomainError):
    """A workflow stopped (aborted, timed out, or the panel died before starting it) without
    finishing; the sweeper (mamba.services.sweeper) closed its operation and undid its work."""

    status = 503
    code = "WORKFLOW_INTERRUPTED"


# --- backups (issue 6; raised by the backup workflows' tasks, caught by the ASL by class name) ---


class BackupFailedError(DomainError):
    """Wings reported the backup or restore failed, or the uploaded object is not what it reported."""

    status = 409
    code = "BACKUP_FAILED"


class BackupTimeoutError(DomainError):
    """Wings did not report the backup or restore within the configured time."""

    status = 504
    code = "BACKUP_TIMEOUT"


# --- server files (mamba.services.server_files) ---


class FileDeniedError(ForbiddenError):
    """The path matches the server blueprint's ``file_denylist`` (checked by the panel, or
    refused by Wings itself: then it is the ``WingsFileDeniedError`` subclass)."""

    status = 403
    code = "FILE_DENIED"


class WingsFileDeniedError(FileDeniedError):
    """The node itself refused the path: Wings' 403 for its egg's ``file_denylist``
    (wings-contract.md §2.1), e.g. for a blueprint changed since the node last synced. The
    caller sees the same 403 ``FILE_DENIED`` as for the panel's own check; the class says who
    refused."""


# --- accounts (mamba.services.accounts and sessions) ---


class EmailNotVerifiedError(ForbiddenError):
    """The account's email is not verified yet; creating tenants and servers needs it."""

    status = 403
    code = "EMAIL_NOT_VERIFIED"


class SessionRequiredError(ForbiddenError):
    """Only a login session may do this (change the email or the password, mint an API key):
    an API key, even one scoped for the account, never can."""

    status = 403
    code = "SESSION_REQUIRED"


class CaptchaFailedError(DomainError):
    """The CAPTCHA token was missing, invalid, expired or already used."""

    status = 400
    code = "CAPTCHA_FAILED"


# --- security hardening (issue 10) ---


class PullUrlRefusedError(DomainError):
    """``files/pull`` was given a URL the node must not fetch (a non-http(s) scheme,
    credentials, an encoded or non-public address); ``details.reason`` says which."""

    status = 400
    code = "PULL_URL_REFUSED"


# --- outgoing webhooks (issue 14) ---


class WebhookUrlRefusedError(DomainError):
    """A webhook URL the panel will not post to: not https (http only in local mode),
    credentials, an encoded or non-public address, when saved or at send time (the same
    checks as ``files/pull``); ``details.reason`` says which."""

    status = 400
    code = "WEBHOOK_URL_REFUSED"


class WebhookLimitError(ConflictError):
    """The tenant already has as many webhooks as it may (``details.limit``)."""

    status = 409
    code = "WEBHOOK_LIMIT"


class PlanPriceInvalidError(DomainError):
    """A plan names a Stripe price that Checkout could not sell as the plan says: missing, archived,
    one-time, in another currency or interval, or metered where a flat fee belongs (or the
    reverse). ``details.reason`` says which and ``details.fields`` names the plan's field."""

    status = 422
    code = "PLAN_PRICE_INVALID"


class CurrencyMismatchError(ConflictError):
    """A credit in a currency the tenant is not billed in; balances never mix currencies."""

    status = 409
    code = "CURRENCY_MISMATCH"


# --- admin console (issue 12) ---


class LastAdminError(ConflictError):
    """The acting admin is no longer an active admin at the moment of the write (another admin
    revoked or suspended them meanwhile): the change would leave the platform without an admin."""

    status = 409
    code = "LAST_ADMIN"
