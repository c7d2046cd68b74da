"""Operations: the user-visible record of a workflow, updated step by step."""

from __future__ import annotations

from typing import Any

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import translate
from mamba.adapters.dynamo.items import OperationItem, StepAttribute
from mamba.domain.clock import iso, utcnow
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.operations import Operation, Step


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
    )


class DynamoOperationRepository:
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
        """Write the mutable part of an operation (status, steps, error)."""
        pk, sk = keys.operation(op.tenant_id, op.id)
        item = OperationItem(pk, sk)
        actions: list[Any] = [
            OperationItem.status.set(op.status),
            OperationItem.steps.set(
                [
                    StepAttribute(
                        name=s.name,
                        status=s.status,
                        started_at=s.started_at,
                        finished_at=s.finished_at,
                        detail=s.detail,
                    )
                    for s in op.steps
                ]
            ),
            OperationItem.updated_at.set(iso(utcnow())),
            OperationItem.version.add(1),
        ]
        if op.error:
            actions += [
                OperationItem.error_code.set(op.error["code"]),
                OperationItem.error_message.set(op.error["message"]),
            ]
        with translate(on_condition=NotFoundError("Operation not found.", {"operation_id": op.id})):
            item.update(actions=actions, condition=OperationItem.pk.exists())
