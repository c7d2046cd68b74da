"""Fixed-window rate limits: pure arithmetic over epoch seconds.

A limit allows ``max`` events per ``window`` seconds for one subject (an IP address, an
email, a user id). Windows are aligned to multiples of ``window`` since the epoch, so every
Lambda container agrees on which counter an event belongs to without coordinating. The
counters themselves live behind the ``RateLimiter`` port (DynamoDB in production).

A fixed window lets a burst of up to ``2 * max`` straddle a boundary; for login throttling
that is acceptable and it costs one atomic counter per window instead of a sorted log.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    name: str  # the counter family, e.g. "login-account"; part of the storage key
    max: int  # events allowed per window
    window: int  # seconds

    def __post_init__(self) -> None:
        if self.max < 1 or self.window < 1:
            raise ValueError(f"limit {self.name!r} needs max >= 1 and window >= 1")

    def window_start(self, now: int) -> int:
        return now - now % self.window

    def window_end(self, now: int) -> int:
        return self.window_start(now) + self.window

    def retry_after(self, now: int) -> int:
        """Seconds until the current window closes (at least 1, for the Retry-After header)."""
        return max(1, self.window_end(now) - now)

    def exceeded(self, count: int) -> bool:
        """True once ``count`` events have used up the window (the next one must wait)."""
        return count >= self.max
