"""Rate-limit counters in the main table: one item per (limit, subject, window).

``add`` is a single UpdateItem with ``ADD hits 1``: DynamoDB applies it atomically, so
concurrent Lambda containers never lose a count, and it creates the item on first use
(no read-before-write). The item's ``ttl`` is set a little after its window ends, so old
windows disappear without a job; readers never rely on that, because the window start is
part of the key and an old window is simply never read again.

Subjects (IP addresses, emails) are stored only as a SHA-256 digest: the counters must
not become a second copy of who tried to log in with which address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.errors import SKIP, translate
from mamba.adapters.dynamo.items import RateCounterItem
from mamba.domain.ratelimit import Limit

# Keep a window a minute past its end: a clock a little behind in another container still
# finds the counter it belongs to.
TTL_MARGIN_SECONDS = 60
UNAVAILABLE = "The rate limiter is unavailable; try again."


def subject_digest(subject: str) -> str:
    return hashlib.sha256(subject.strip().lower().encode()).hexdigest()[:32]


def _key(limit: Limit, subject: str, now: int) -> tuple[str, str]:
    return keys.rate_counter(limit.name, subject_digest(subject), limit.window_start(now))


class DynamoRateLimiter:
    def add(self, limit: Limit, subject: str, now: int) -> int:
        item = RateCounterItem(*_key(limit, subject, now))
        with translate(unavailable=UNAVAILABLE):
            # ADD creates the attribute (and the item) at 0 + 1 when absent: no read first.
            item.update(
                actions=[
                    RateCounterItem.hits.add(1),
                    RateCounterItem.ttl.set(limit.window_end(now) + TTL_MARGIN_SECONDS),
                    RateCounterItem.kind.set("rate_counter"),
                ]
            )
        return int(item.hits or 0)

    def peek(self, checks: Sequence[tuple[Limit, str]], now: int) -> list[int]:
        wanted = [_key(limit, subject, now) for limit, subject in checks]
        with translate(unavailable=UNAVAILABLE):
            found = {
                (item.pk, item.sk): int(item.hits or 0)
                for item in RateCounterItem.batch_get(list(set(wanted)), consistent_read=True)
            }
        return [found.get(key, 0) for key in wanted]

    def release(self, limit: Limit, subject: str, now: int) -> None:
        item = RateCounterItem(*_key(limit, subject, now))
        with translate(on_condition=SKIP, unavailable=UNAVAILABLE):
            # hits > 0: a release never creates a counter nor takes one below zero (a window
            # that expired and was removed in between stays removed).
            item.update(actions=[RateCounterItem.hits.add(-1)], condition=RateCounterItem.hits > 0)
