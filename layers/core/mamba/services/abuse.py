"""Abuse resistance shared by the public account routes: rate limits and CAPTCHA.

Two ways to use a limit:

* ``count``: every attempt counts, and the one past the limit is refused (register, forgot,
  verify). The counter is bumped first, so concurrent attempts cannot all slip under it.
* ``reserve`` + ``release``: only failures count (login, SFTP passwords). The attempt is
  counted *before* the password is checked (atomic ADD), and an attempt that proves the
  password gives its count back. Counting after the check would let a burst of parallel
  guesses all be checked before any of them was counted (issue 10, finding 3). With a
  limit of 5, five failures get their 401 and every further attempt in the window gets
  429 unchecked, whatever its password and however many arrive at once.
* ``refuse_if_exceeded`` + ``record``: a read of the counters, then a count of a failure
  (second-factor codes).
"""

from __future__ import annotations

from collections.abc import Sequence

from mamba.domain.errors import RateLimitedError
from mamba.domain.ratelimit import Limit
from mamba.ports import Captcha, RateLimiter


def _limited(limit: Limit, now: int) -> RateLimitedError:
    # The same message for every limit: which counter tripped (the IP's or the account's)
    # is not the caller's business, and naming it would tell whether an account exists.
    return RateLimitedError(
        "Too many attempts; wait before trying again.", retry_after=limit.retry_after(now), details={}
    )


def count(limiter: RateLimiter, limit: Limit, subject: str, now: int) -> None:
    """Count this attempt; raises RateLimitedError once more than ``limit.max`` were made in the window."""
    if limiter.add(limit, subject, now) > limit.max:
        raise _limited(limit, now)


def refuse_if_exceeded(limiter: RateLimiter, checks: Sequence[tuple[Limit, str]], now: int) -> None:
    """Raises RateLimitedError (with the longest wait) when any counter has used up its window."""
    counts = limiter.peek(checks, now)
    tripped = [limit for (limit, _subject), seen in zip(checks, counts, strict=True) if limit.exceeded(seen)]
    if tripped:
        raise _limited(max(tripped, key=lambda limit: limit.retry_after(now)), now)


def reserve(limiter: RateLimiter, checks: Sequence[tuple[Limit, str]], now: int) -> None:
    """Count this attempt on every counter, in order; raises RateLimitedError at the first
    counter past its limit (the later ones are not counted: the attempt was never made)."""
    for limit, subject in checks:
        count(limiter, limit, subject, now)


def release(limiter: RateLimiter, checks: Sequence[tuple[Limit, str]], now: int) -> None:
    """Give back an attempt ``reserve`` counted at the same ``now`` (it was not a failure)."""
    for limit, subject in checks:
        limiter.release(limit, subject, now)


def record(limiter: RateLimiter, checks: Sequence[tuple[Limit, str]], now: int) -> None:
    for limit, subject in checks:
        limiter.add(limit, subject, now)


def check_captcha(captcha: Captcha | None, token: str | None, source_ip: str) -> None:
    """Raises CaptchaFailedError (or DependencyUnavailableError) unless CAPTCHA is disabled
    (``captcha`` is None) or the token is accepted by the provider."""
    if captcha is not None:
        captcha.verify(token, source_ip)
