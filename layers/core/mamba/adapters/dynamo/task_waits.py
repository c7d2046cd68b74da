"""The task tokens of workflows waiting on a node's callback (``mamba.services.task_waits``).

One item per subject: a new wait on the same subject (a second reinstall) replaces the old
token, which belonged to a wait that has ended. ``forget`` deletes only the token it was
given, so a callback that delivered an old token never removes a newer one.
"""

from __future__ import annotations

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import TaskWaitItem
from mamba.domain.errors import NotFoundError

_UNAVAILABLE = "The waiting workflow could not be looked up; try again."


class DynamoTaskTokenStore:
    def park(self, subject: str, token: str, now: int, expires_at: int) -> None:
        item = TaskWaitItem(*keys.task_wait(subject), kind="task_wait", ttl=expires_at, task_token=token, parked_at=now)
        with translate(unavailable="The workflow could not start waiting for the node; try again."):
            item.save()

    def token(self, subject: str) -> str | None:
        pk, sk = keys.task_wait(subject)
        try:
            with translate(on_missing=NotFoundError("No workflow waits."), unavailable=_UNAVAILABLE):
                item = TaskWaitItem.get(pk, sk, consistent_read=True)
        except NotFoundError:
            return None
        return str(item.task_token)

    def forget(self, subject: str, token: str) -> None:
        pk, sk = keys.task_wait(subject)
        # Only the token that was delivered: a wait that started meanwhile keeps its own.
        with translate(on_condition=SKIP, unavailable="The waiting workflow could not be updated."):
            TaskWaitItem(pk, sk).delete(condition=TaskWaitItem.task_token == token)
