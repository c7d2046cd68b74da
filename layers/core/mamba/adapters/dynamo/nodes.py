"""Nodes and their allocations.

* A node is ``NODE#<id>/PROFILE`` (listed through gsi1 ``NODES``). Its token is stored only
  as KMS ciphertext bound to the node id (``TokenCipher``); ``token(node)`` decrypts it.
* ``NODETOKEN#<token_id>/CLAIM`` makes the token id unique and finds the node for Wings'
  ``Bearer <token_id>.<token>`` with two consistent GetItems (a GSI would be eventually
  consistent: a just-rotated token could still be found). Node and claim are written in
  one transaction; rotation swaps the claim and the ciphertext in one transaction, so the
  old token id stops resolving the moment the new one exists.
* An allocation is ``NODE#<id>/ALLOC#<ip>#<port>``: its key is the uniqueness of ``ip:port``
  on the node, enforced by ``attribute_not_exists(pk)`` on every put.
"""

from __future__ import annotations

from typing import Protocol

from pynamodb.transactions import TransactWrite

from mamba.adapters.dynamo import keys, prefetch
from mamba.adapters.dynamo.errors import SKIP, get_or_none, translate
from mamba.adapters.dynamo.items import AllocationItem, NodeItem, NodeTokenItem
from mamba.adapters.dynamo.pagination import CursorCodec, query_page
from mamba.adapters.dynamo.users import connection
from mamba.domain.errors import ConflictError, NotFoundError
from mamba.domain.nodes import Allocation, AllocationResult, Node
from mamba.domain.pages import DEFAULT_LIMIT, PageRequest

TRANSACTION_LIMIT = 100  # DynamoDB's maximum number of items in one transaction


class TokenCipher(Protocol):
    def encrypt(self, plaintext: str, context: dict[str, str]) -> str: ...
    def decrypt(self, ciphertext: str, context: dict[str, str]) -> str: ...


def _context(node_id: str) -> dict[str, str]:
    return {"mamba:node": node_id}


def _node(item: NodeItem) -> Node:
    return Node(
        id=item.node_id,
        uuid=item.uuid,
        name=item.name,
        location=item.location or "",
        fqdn=item.fqdn,
        scheme=item.scheme,
        behind_proxy=bool(item.behind_proxy),
        daemon_port=int(item.daemon_port),
        sftp_port=int(item.sftp_port),
        daemon_base=item.daemon_base,
        upload_limit_mb=int(item.upload_limit_mb),
        memory_mb=int(item.memory_mb),
        memory_overallocate_percent=int(item.memory_overallocate_percent),
        disk_mb=int(item.disk_mb),
        disk_overallocate_percent=int(item.disk_overallocate_percent),
        maintenance=bool(item.maintenance),
        allowed_tenants=tuple(str(t) for t in item.allowed_tenants or ()),
        tags=tuple(str(t) for t in item.tags or ()),
        allowed_origins=tuple(str(o) for o in item.allowed_origins or ()),
        token_id=item.token_id,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _node_item(node: Node, ciphertext: str) -> NodeItem:
    pk, sk = keys.node(node.id)
    return NodeItem(
        pk,
        sk,
        kind="node",
        gsi1pk=keys.ALL_NODES,
        gsi1sk=keys.created_sort(node.created_at, node.id),
        node_id=node.id,
        uuid=node.uuid,
        name=node.name,
        location=node.location,
        fqdn=node.fqdn,
        scheme=node.scheme,
        behind_proxy=node.behind_proxy,
        daemon_port=node.daemon_port,
        sftp_port=node.sftp_port,
        daemon_base=node.daemon_base,
        upload_limit_mb=node.upload_limit_mb,
        memory_mb=node.memory_mb,
        memory_overallocate_percent=node.memory_overallocate_percent,
        disk_mb=node.disk_mb,
        disk_overallocate_percent=node.disk_overallocate_percent,
        maintenance=node.maintenance,
        allowed_tenants=list(node.allowed_tenants) or None,
        tags=list(node.tags) or None,
        allowed_origins=list(node.allowed_origins) or None,
        token_id=node.token_id,
        token_ciphertext=ciphertext,
        created_at=node.created_at,
        updated_at=node.updated_at,
    )


def _claim(token_id: str, node_id: str, created_at: str) -> NodeTokenItem:
    pk, sk = keys.node_token(token_id)
    return NodeTokenItem(pk, sk, kind="node_token", token_id=token_id, node_id=node_id, created_at=created_at)


def _not_found(node_id: str) -> NotFoundError:
    return NotFoundError("Node not found.", {"node_id": node_id})


class DynamoNodeRepository:
    def __init__(self, cipher: TokenCipher, codec: CursorCodec) -> None:
        self._codec = codec
        self._cipher = cipher

    def add(self, node: Node, token: str) -> None:
        """Store a new node with its token (encrypted). ConflictError if the id or token id exists."""
        item = _node_item(node, self._cipher.encrypt(token, _context(node.id)))
        with translate(
            on_condition=ConflictError("The node or its token id already exists.", {"node_id": node.id}),
            unavailable="The node could not be saved; try again.",
        ):
            with TransactWrite(connection=connection()) as tx:
                tx.save(item, condition=NodeItem.pk.does_not_exist())
                tx.save(_claim(node.token_id, node.id, node.created_at), condition=NodeTokenItem.pk.does_not_exist())

    def _item(self, node_id: str) -> NodeItem:
        with translate(on_missing=_not_found(node_id)):
            return NodeItem.get(*keys.node(node_id), consistent_read=True)

    def get(self, node_id: str) -> Node:
        """One consistent read. In a request, a BatchGetItem that also reads the node's breaker
        state, kept with the node item for ``token()`` and the Wings client's breaker
        (mamba.adapters.dynamo.prefetch): reaching a node costs one request, not three."""
        if not prefetch.active():
            return _node(self._item(node_id))
        from mamba.adapters.dynamo.identity import batch_get

        node_key, breaker_key = keys.node(node_id), keys.node_breaker(node_id)
        ahead = prefetch.take(node_key)  # the guard read it with the caller (a node route's read)
        if ahead is not None:
            if ahead.item is None:
                raise _not_found(node_id)
            prefetch.keep({node_key: ahead.item})  # for token(); the breaker's item is still kept
            return _node(NodeItem.from_raw_data(ahead.item))
        found = batch_get([node_key, breaker_key])
        if node_key not in found:
            raise _not_found(node_id)
        prefetch.keep({node_key: found[node_key], breaker_key: found.get(breaker_key)})
        return _node(NodeItem.from_raw_data(found[node_key]))

    def list(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> tuple[list[Node], str | None]:
        """Nodes in creation order, one Query on gsi1 per page (signed cursors)."""
        found, next_cursor = query_page(
            self._codec, NodeItem.gsi1.query, keys.ALL_NODES, scope="admin.nodes", page=PageRequest(limit, cursor)
        )
        return [_node(item) for item in found], next_cursor

    def update(self, node: Node) -> None:
        """Write every editable field of an existing node (not its token: see ``rotate_token``)."""
        item = self._item(node.id)
        fresh = _node_item(node, item.token_ciphertext)
        fresh.token_id = item.token_id
        fresh.created_at = item.created_at
        fresh.gsi1sk = item.gsi1sk
        with translate(on_condition=ConflictError("The node changed meanwhile; try again.", {"node_id": node.id})):
            fresh.save(condition=NodeItem.pk.exists() & (NodeItem.token_id == item.token_id))

    def delete(self, node_id: str) -> None:
        """Delete a node, its token claim and its allocations. ConflictError if a server holds an allocation."""
        item = self._item(node_id)
        allocations = list(
            AllocationItem.query(
                keys.node(node_id)[0], AllocationItem.sk.startswith(keys.ALLOCATION_PREFIX), consistent_read=True
            )
        )
        held = [a for a in allocations if a.server_id]
        if held:
            raise ConflictError(
                "The node has allocations assigned to servers.",
                {"node_id": node_id, "assigned": [f"{a.ip}:{int(a.port)}" for a in held][:20]},
            )
        with TransactWrite(connection=connection()) as tx:
            tx.delete(item, condition=NodeItem.token_id == item.token_id)
            tx.delete(NodeTokenItem(*keys.node_token(item.token_id)))
        with AllocationItem.batch_write() as batch:
            for allocation in allocations:
                batch.delete(allocation)

    def find_by_token_id(self, token_id: str) -> Node | None:
        """The node whose current token id this is, or None (two consistent GetItems)."""
        if not token_id or "." in token_id:
            return None
        claim = get_or_none(NodeTokenItem, *keys.node_token(token_id), consistent_read=True)
        item = get_or_none(NodeItem, *keys.node(claim.node_id), consistent_read=True) if claim is not None else None
        if item is None or item.token_id != token_id:  # a claim left behind by an interrupted rotation
            return None
        prefetch.keep({keys.node(item.node_id): item.serialize()})  # token() compares with it next
        return _node(item)

    def token(self, node: Node) -> str:
        """The node's token in clear (KMS decrypt, cached per container by ciphertext)."""
        key = keys.node(node.id)
        kept = prefetch.take(key)  # the item get() read in this request
        item = NodeItem.from_raw_data(kept.item) if kept is not None and kept.item else self._item(node.id)
        # Kept again for this request's next use: a console token is signed with the token the
        # Wings client of the same request decrypted first (one read of the node, not two).
        prefetch.keep({key: item.serialize()})
        return self._cipher.decrypt(item.token_ciphertext, _context(node.id))

    def rotate_token(self, node_id: str, token_id: str, token: str, now: str) -> Node:
        """Replace the node's token id and token; the old pair stops authenticating at once."""
        item = self._item(node_id)
        ciphertext = self._cipher.encrypt(token, _context(node_id))
        with translate(
            on_condition=ConflictError("The node's token changed meanwhile; try again.", {"node_id": node_id}),
            unavailable="The token could not be rotated; try again.",
        ):
            with TransactWrite(connection=connection()) as tx:
                tx.update(
                    item,
                    actions=[
                        NodeItem.token_id.set(token_id),
                        NodeItem.token_ciphertext.set(ciphertext),
                        NodeItem.updated_at.set(now),
                    ],
                    # Two rotations at once: only the one that read the current token id wins.
                    condition=NodeItem.token_id == item.token_id,
                )
                tx.delete(NodeTokenItem(*keys.node_token(item.token_id)))
                tx.save(_claim(token_id, node_id, now), condition=NodeTokenItem.pk.does_not_exist())
        return self.get(node_id)


def _allocation(item: AllocationItem) -> Allocation:
    return Allocation(
        node_id=item.node_id,
        ip=item.ip,
        port=int(item.port),
        alias=item.alias,
        notes=item.notes,
        server_id=item.server_id,
        created_at=item.created_at,
    )


def _allocation_item(allocation: Allocation) -> AllocationItem:
    pk, sk = keys.allocation(allocation.node_id, allocation.ip, allocation.port)
    return AllocationItem(
        pk,
        sk,
        kind="allocation",
        node_id=allocation.node_id,
        ip=allocation.ip,
        port=allocation.port,
        alias=allocation.alias,
        notes=allocation.notes,
        server_id=allocation.server_id,
        created_at=allocation.created_at,
    )


class DynamoAllocationRepository:
    def __init__(self, codec: CursorCodec) -> None:
        self._codec = codec

    def add_many(self, allocations: list[Allocation]) -> AllocationResult:
        """Put each allocation unless its ``ip:port`` exists on the node.

        Transactions of up to 100 conditional puts. A cancelled transaction names the items
        whose condition failed; those are reported as conflicts and the rest of that batch
        is written again, so a concurrent request adding the same port loses cleanly.
        """
        result = AllocationResult()
        for start in range(0, len(allocations), TRANSACTION_LIMIT):
            pending = allocations[start : start + TRANSACTION_LIMIT]
            while pending:
                with translate(
                    on_condition=SKIP, unavailable="The allocations could not be saved; try again."
                ) as write:
                    with TransactWrite(connection=connection()) as tx:
                        for allocation in pending:
                            tx.save(_allocation_item(allocation), condition=AllocationItem.pk.does_not_exist())
                if write.cancellation is not None:
                    taken = write.cancellation.failed_positions
                    result.conflicts += [f"{a.ip}:{a.port}" for i, a in enumerate(pending) if i in taken]
                    pending = [a for i, a in enumerate(pending) if i not in taken]
                    continue
                result.created += pending
                pending = []
        return result

    def get(self, node_id: str, ip: str, port: int) -> Allocation:
        with translate(on_missing=NotFoundError("Allocation not found.", {"allocation": f"{ip}:{port}"})):
            return _allocation(AllocationItem.get(*keys.allocation(node_id, ip, port), consistent_read=True))

    def list(
        self, node_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> tuple[list[Allocation], str | None]:
        """A node's allocations by ip then port: one Query per page (signed cursors)."""
        found, next_cursor = query_page(
            self._codec,
            AllocationItem.query,
            keys.node(node_id)[0],
            AllocationItem.sk.startswith(keys.ALLOCATION_PREFIX),
            scope=f"allocations:{node_id}",
            page=PageRequest(limit, cursor),
        )
        return [_allocation(item) for item in found], next_cursor

    def delete(self, node_id: str, ip: str, port: int) -> None:
        """Delete an unassigned allocation: NotFoundError if absent, ConflictError if a server holds it."""
        item = AllocationItem(*keys.allocation(node_id, ip, port))
        with translate(on_condition=SKIP) as delete:
            # Checked in the write itself: an assignment landing between a read and the delete still wins.
            item.delete(condition=AllocationItem.pk.exists() & AllocationItem.server_id.does_not_exist())
        if delete.condition_failed:
            current = self.get(node_id, ip, port)  # NotFoundError when it was not there
            raise ConflictError(
                "The allocation is assigned to a server.",
                {"allocation": f"{ip}:{port}", "server_id": current.server_id},
            ) from delete.error

    def assign(self, node_id: str, ip: str, port: int, server_id: str) -> None:
        """Give a free allocation to a server (ConflictError if taken, NotFoundError if absent)."""
        item = AllocationItem(*keys.allocation(node_id, ip, port))
        with translate(on_condition=SKIP) as update:
            item.update(
                actions=[AllocationItem.server_id.set(server_id)],
                condition=AllocationItem.pk.exists() & AllocationItem.server_id.does_not_exist(),
            )
        if update.condition_failed:
            self.get(node_id, ip, port)  # NotFoundError when it was not there
            raise ConflictError("The allocation is already assigned.", {"allocation": f"{ip}:{port}"}) from update.error

    def release(self, node_id: str, ip: str, port: int, server_id: str) -> None:
        """Free an allocation held by ``server_id`` (a no-op if another server or nobody holds it)."""
        item = AllocationItem(*keys.allocation(node_id, ip, port))
        with translate(on_condition=SKIP):
            item.update(actions=[AllocationItem.server_id.remove()], condition=AllocationItem.server_id == server_id)

    def set_notes(self, node_id: str, ip: str, port: int, server_id: str, notes: str | None) -> Allocation:
        """Set (or, with None, remove) the notes of an allocation ``server_id`` holds; checked in
        the write, so a release racing it wins. NotFoundError otherwise."""
        item = AllocationItem(*keys.allocation(node_id, ip, port))
        action = AllocationItem.notes.set(notes) if notes else AllocationItem.notes.remove()
        with translate(
            on_condition=NotFoundError("Allocation not found.", {"allocation": f"{ip}:{port}"}),
            unavailable="The allocation could not be saved; try again.",
        ):
            item.update(actions=[action], condition=AllocationItem.server_id == server_id)
        return _allocation(item)


__all__ = ["DynamoAllocationRepository", "DynamoNodeRepository", "TokenCipher"]
