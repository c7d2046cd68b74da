from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer


class Schema(BaseModel):
    """Base of every request and response model. Validators are built on first use, not at
    import (each model built eagerly costs about 2 ms of cold start), and unknown fields in
    a request are a 400, not silently dropped."""

    model_config = ConfigDict(defer_build=True, extra="forbid")


class OmitWhenNone(BaseModel):
    """A response model whose fields named in ``omit_when_none`` are left out of the answer,
    not sent as null, when they have no value: the shape those answers always had."""

    omit_when_none: ClassVar[frozenset[str]] = frozenset()

    # No return annotation: pydantic would publish it as the serialised schema in /openapi.json.
    @model_serializer(mode="wrap")
    def _leave_out_empty(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = handler(self)
        for name in self.omit_when_none:
            if data.get(name) is None:
                data.pop(name, None)
        return data


def _iso_from_epoch(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
    return value


# A time a record keeps as epoch seconds and the API shows as ISO 8601 (``...Z``).
EpochTime = Annotated[str | None, BeforeValidator(_iso_from_epoch)]


class ErrorDetail(BaseModel):
    code: str = Field(examples=["VALIDATION_ERROR"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorOut(BaseModel):
    error: ErrorDetail
    request_id: str


class RemoteErrorItem(BaseModel):
    code: str = Field(examples=["NotFoundHttpException"])
    status: str = Field(examples=["404"], description="the HTTP status as a string, as Pterodactyl's panel sends it")
    detail: str


class RemoteErrorOut(BaseModel):
    """The error shape of the Wings callback API (/api/remote/*): Pterodactyl's, which Wings reads."""

    errors: list[RemoteErrorItem] = Field(min_length=1)


class LiveOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]


class StepOut(BaseModel):
    name: str
    status: Literal["pending", "running", "succeeded", "failed", "skipped", "compensated"]
    started_at: str | None = None
    finished_at: str | None = None
    detail: str | None = None


class OperationError(BaseModel):
    code: str
    message: str


class OperationOut(BaseModel):
    id: str
    type: str
    status: Literal["pending", "running", "succeeded", "failed"]
    target: str | None = None
    steps: list[StepOut]
    error: OperationError | None = None
    created_at: str
    updated_at: str


class ExecutionFailureOut(BaseModel):
    state: str = Field(description="The state whose task failed (or the last state entered)")
    error: str
    cause: str


class AdminOperationOut(OperationOut):
    """An operation as the platform admin sees it: whose it is and which attempt this is."""

    tenant_id: str
    attempt: int
    retryable: bool = Field(description="Whether POST .../retry would start it again now")
    retry_refusal: str | None = Field(default=None, description="Why a retry would answer 409")


class AdminOperationDetailOut(AdminOperationOut):
    failure: ExecutionFailureOut | None = Field(
        default=None, description="The Step Functions execution's failed state and cause, when it failed"
    )


class AdminOperationList(BaseModel):
    items: list[AdminOperationOut]
    next_cursor: str | None
