"""Operations: the user-visible record of a workflow, updated step by step."""

from __future__ import annotations

import json
from typing import Any

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import translate
from mamba.adapters.dynamo.items import OperationItem, StepAttribute
from mamba.adapters.dynamo.pagination import CursorCodec, query_page
from mamba.domain.clock import iso, utcnow
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.operations import Operation, Step
from mamba.domain.pages import Page, PageRequest


def _to_domain(item: OperationItem) -> Operation:
    error = None
    if item.error_code:
        error = {"code": item.error_code, "message": item.error_message or ""}
    return Operation(
        id=item.operation_id,
        tenant_id=item.tenant_id,
        type=item.type,
        status=item.status,
        target=item.target,
        steps=[
            Step(name=s.name, status=s.status, started_at=s.started_at, finished_at=s.finished_at, detail=s.detail)
            for s in item.steps or []
        ],
        error=error,
        created_at=item.created_at,
        updated_at=item.updated_at,
        workflow=item.workflow,
        input=json.loads(item.workflow_input) if item.workflow_input else None,
        attempt=int(item.attempt or 1),
    )


def _steps(op: Operation) -> list[StepAttribute]:
    return [
        StepAttribute(name=s.name, status=s.status, started_at=s.started_at, finished_at=s.finished_at, detail=s.detail)
        for s in op.steps
    ]


class DynamoOperationRepository:
    def __init__(self, cursors: CursorCodec | None = None) -> None:
        self.cursors = cursors

    def add(self, op: Operation) -> None:
        pk, sk = keys.operation(op.tenant_id, op.id)
        item = OperationItem(
            pk,
            sk,
            kind="operation",
            gsi1pk=keys.ALL_OPERATIONS,
            gsi1sk=f"{op.created_at}#{op.id}",
            gsi2pk=keys.operation_by_id(op.id),
            gsi2sk=keys.operation_by_id(op.id),
            gsi3pk=keys.operations_by_status(op.status),
            gsi3sk=f"{op.created_at}#{op.id}",
            workflow=op.workflow,
            workflow_input=json.dumps(op.input, separators=(",", ":")) if op.input is not None else None,
            attempt=op.attempt,
            operation_id=op.id,
            tenant_id=op.tenant_id,
            type=op.type,
            status=op.status,
            target=op.target,
            steps=[StepAttribute(name=s.name, status=s.status) for s in op.steps],
            created_at=op.created_at,
            updated_at=op.updated_at,
        )
        with translate(on_condition=ConflictError("The operation already exists.", {"operation_id": op.id})):
            # An operation id is minted once; refusing to overwrite keeps a retried start harmless.
            item.save(condition=OperationItem.pk.does_not_exist())

    def get(self, tenant_id: str, op_id: str) -> Operation:
        pk, sk = keys.operation(tenant_id, op_id)
        with translate(on_missing=NotFoundError("Operation not found.", {"operation_id": op_id})):
            return _to_domain(OperationItem.get(pk, sk, consistent_read=True))

    def find(self, op_id: str) -> Operation:
        """Look an operation up by id alone (workflow tasks carry only the id)."""
        for item in OperationItem.gsi2.query(keys.operation_by_id(op_id), limit=1):
            return _to_domain(item)  # type: ignore[arg-type]
        raise NotFoundError("Operation not found.", {"operation_id": op_id})

    def save(self, op: Operation) -> None:
        """Write the mutable part of an operation (status, steps, error, and the input a retry
        prepared for its attempt)."""
        pk, sk = keys.operation(op.tenant_id, op.id)
        item = OperationItem(pk, sk)
        actions: list[Any] = [
            OperationItem.status.set(op.status),
            OperationItem.gsi3pk.set(keys.operations_by_status(op.status)),
            OperationItem.gsi3sk.set(f"{op.created_at}#{op.id}"),
            OperationItem.steps.set(_steps(op)),
            OperationItem.updated_at.set(iso(utcnow())),
            OperationItem.version.add(1),
        ]
        if op.input is not None:
            actions.append(OperationItem.workflow_input.set(json.dumps(op.input, separators=(",", ":"))))
        if op.error:
            actions += [
                OperationItem.error_code.set(op.error["code"]),
                OperationItem.error_message.set(op.error["message"]),
            ]
        with translate(on_condition=NotFoundError("Operation not found.", {"operation_id": op.id})):
            item.update(actions=actions, condition=OperationItem.pk.exists())

    def list_all(
        self, page: PageRequest, status: str | None = None, op_type: str | None = None, since: str | None = None
    ) -> Page[Operation]:
        """Every tenant's operations, newest first, one Query per page: gsi3 (``OPS#<status>``)
        with a status, gsi1 (``OPS``) without. ``since`` bounds the sort key; ``op_type`` is a
        filter inside the page (a page may then hold fewer than ``limit`` items)."""
        if self.cursors is None:
            raise RuntimeError("DynamoOperationRepository was built without a cursor codec")
        index: Any
        if status:
            index, pk, sort_key = OperationItem.gsi3, keys.operations_by_status(status), OperationItem.gsi3sk
        else:
            index, pk, sort_key = OperationItem.gsi1, keys.ALL_OPERATIONS, OperationItem.gsi1sk
        kwargs: dict[str, Any] = {"scan_index_forward": False}
        if since:
            kwargs["range_key_condition"] = sort_key >= since
        if op_type:
            kwargs["filter_condition"] = OperationItem.type == op_type
        scope = f"admin.operations:{status or ''}:{op_type or ''}:{since or ''}"
        found, cursor = query_page(self.cursors, index.query, pk, scope=scope, page=page, **kwargs)
        return Page(items=[_to_domain(item) for item in found], next_cursor=cursor)

    def begin_retry(self, retried: Operation) -> None:
        """Move a failed operation to ``retried`` (pending, next attempt) only if it is still
        failed at the attempt before: of two concurrent retries exactly one wins, the other is
        ConflictError and starts nothing."""
        pk, sk = keys.operation(retried.tenant_id, retried.id)
        actions: list[Any] = [
            OperationItem.status.set(retried.status),
            OperationItem.gsi3pk.set(keys.operations_by_status(retried.status)),
            OperationItem.steps.set(_steps(retried)),
            OperationItem.attempt.set(retried.attempt),
            OperationItem.error_code.remove(),
            OperationItem.error_message.remove(),
            OperationItem.updated_at.set(retried.updated_at),
            OperationItem.version.add(1),
        ]
        previous = retried.attempt - 1
        attempt_matches = OperationItem.attempt == previous
        if previous == 1:  # operations written before attempts were counted carry none
            attempt_matches = attempt_matches | OperationItem.attempt.does_not_exist()
        condition = OperationItem.pk.exists() & (OperationItem.status == "failed") & attempt_matches
        with translate(
            on_condition=ConflictError(
                "The operation is already being retried.", {"operation_id": retried.id, "reason": "already_retried"}
            )
        ):
            OperationItem(pk, sk).update(actions=actions, condition=condition)
