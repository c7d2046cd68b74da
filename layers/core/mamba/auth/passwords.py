"""Password hashing: argon2id through argon2-cffi, with its cost stated once, here.

``PARAMS`` is the only place the cost is chosen. A stored hash records the parameters
it was made with, so raising them later needs no migration: ``needs_rehash`` tells the
login path to re-hash the password it has just verified (rehash-on-login).

Why these numbers: 64 MiB and two passes is above OWASP's argon2id floor (19 MiB, t=2)
and costs about 100 ms on one core. One lane, because a Lambda below 1,769 MB has less
than one vCPU, so more lanes only add memory traffic without finishing sooner.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True)
class Argon2Params:
    time_cost: int = 2  # passes over memory
    memory_cost: int = 64 * 1024  # KiB
    parallelism: int = 1  # lanes
    hash_len: int = 32  # bytes
    salt_len: int = 16  # bytes


PARAMS = Argon2Params()


@functools.cache
def _hasher(params: Argon2Params) -> PasswordHasher:
    return PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_cost,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        salt_len=params.salt_len,
        type=Type.ID,
    )


class Argon2idPasswords:
    """Hash, verify and judge staleness of password hashes under one set of parameters."""

    def __init__(self, params: Argon2Params = PARAMS) -> None:
        self.params = params
        self._ph = _hasher(params)

    def hash(self, password: str) -> str:
        """An encoded ``$argon2id$v=19$m=...,t=...,p=...$salt$hash`` string with a fresh salt."""
        return self._ph.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True only when ``password`` matches. Never raises for a wrong password or a bad hash.

        argon2's comparison of the computed and stored digests is constant-time. A missing
        or malformed hash still costs one full hash, so "no such account" and "wrong
        password" take the same time.
        """
        if not password_hash:
            self.burn()
            return False
        try:
            return self._ph.verify(password_hash, password)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError):
            self.burn()
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters (or is not an argon2id hash)."""
        try:
            # Compares type, version, time, memory, parallelism and lengths with ours.
            return self._ph.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    def burn(self) -> None:
        """Spend the time of one verification, for callers that have no hash to check
        (an unknown email at login), so the answer time does not reveal it."""
        self._ph.hash("timing-equaliser")


_DEFAULT = Argon2idPasswords()


def hash_password(password: str) -> str:
    return _DEFAULT.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    return _DEFAULT.verify(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _DEFAULT.needs_rehash(password_hash)


def burn_verification_time() -> None:
    _DEFAULT.burn()
