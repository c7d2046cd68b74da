"""The audit log in the main table: ``TENANT#<tid>``, ``PLATFORM`` or ``SECURITY`` / ``AUDIT#<at>#<id>``.

Append-only by construction: ``append`` is a put conditioned on ``attribute_not_exists(pk)``
and this class has no update or delete. A list is one Query of one partition, newest
first; ``from``/``to`` narrow the sort-key range, and action, actor and result are a
FilterExpression over that range.
"""

from __future__ import annotations

import json
from typing import Any

from mamba.adapters.dynamo import keys, positions
from mamba.adapters.dynamo.errors import translate
from mamba.adapters.dynamo.items import AuditItem
from mamba.domain.audit import AuditEntry, AuditFilter, AuditPage
from mamba.domain.errors import ConflictError

# Sorts after every character of an entry id, so "<to>#~" bounds every entry stamped <to>.
_AFTER_ANY_ID = "#~"


def _to_domain(item: AuditItem) -> AuditEntry:
    security = item.pk == keys.SECURITY_AUDIT
    return AuditEntry(
        id=item.audit_id,
        at=item.at,
        action=item.action,
        result=item.result,
        tenant_id=item.tenant_id,
        actor_id=item.actor_id,
        actor_via=item.actor_via,
        target=item.target,
        permission=item.permission,
        method=item.method,
        status=int(item.status) if item.status is not None else None,
        error_code=item.error_code,
        ip=item.ip,
        request_id=item.request_id,
        details=json.loads(item.details) if item.details else {},
        security=security,
    )


class DynamoAuditLog:
    def append(self, entry: AuditEntry) -> None:
        pk, sk = keys.audit_entry(entry.tenant_id, entry.at, entry.id, entry.security)
        item = AuditItem(
            pk,
            sk,
            kind="audit",
            audit_id=entry.id,
            tenant_id=entry.tenant_id,
            at=entry.at,
            action=entry.action,
            result=entry.result,
            actor_id=entry.actor_id,
            actor_via=entry.actor_via,
            target=entry.target,
            permission=entry.permission,
            method=entry.method,
            status=entry.status,
            error_code=entry.error_code,
            ip=entry.ip,
            request_id=entry.request_id,
            details=json.dumps(entry.details, sort_keys=True, default=str) if entry.details else None,
        )
        with translate(
            on_condition=ConflictError("The audit entry already exists.", {"audit_id": entry.id}),
            unavailable="The audit entry could not be written.",
        ):
            # attribute_not_exists(pk): an entry, once written, is never replaced.
            item.save(condition=AuditItem.pk.does_not_exist())

    def list(
        self, tenant_id: str | None, filters: AuditFilter, limit: int, cursor: str | None, security: bool = False
    ) -> AuditPage:
        pk = keys.audit_partition(tenant_id, security)
        lower = keys.audit_sort_bound(filters.since) if filters.since else keys.AUDIT_PREFIX
        upper = keys.audit_sort_bound(filters.until) + _AFTER_ANY_ID if filters.until else keys.AUDIT_PREFIX + "~"
        start = None
        position = positions.decode(cursor, 2)
        if position is not None:
            at, entry_id = position
            start = {"pk": {"S": pk}, "sk": {"S": keys.audit_entry(tenant_id, at, entry_id, security)[1]}}
        conditions: list[Any] = []
        if filters.action:
            conditions.append(AuditItem.action == filters.action)
        if filters.actor_id:
            conditions.append(AuditItem.actor_id == filters.actor_id)
        if filters.result:
            conditions.append(AuditItem.result == filters.result)
        condition = None
        for each in conditions:
            condition = each if condition is None else condition & each
        with translate(unavailable="The audit log could not be read; try again."):
            results = AuditItem.query(
                pk,
                AuditItem.sk.between(lower, upper),
                filter_condition=condition,
                scan_index_forward=False,
                page_size=limit,
                last_evaluated_key=start,
            )
            raw, last = positions.first_page(results)
        items = [_to_domain(AuditItem.from_raw_data(r)) for r in raw]
        next_cursor = None
        if last:
            # The position is the last *evaluated* key, which a filter may have dropped.
            _, _, rest = last["sk"]["S"].partition(keys.AUDIT_PREFIX)
            at, _, entry_id = rest.partition("#")
            next_cursor = positions.encode([at, entry_id])
        return AuditPage(items=items, next_cursor=next_cursor)
