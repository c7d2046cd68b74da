"""Password hashing. Most tests use cheap parameters so the unit suite stays fast; one
checks that the module's own functions hash with the stated PARAMS."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from mamba.auth import passwords
from mamba.auth.passwords import Argon2idPasswords, Argon2Params

CHEAP = Argon2Params(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="module")
def hasher() -> Argon2idPasswords:
    return Argon2idPasswords(CHEAP)


def test_hash_password_uses_argon2id_with_the_stated_params_when_called_through_the_module():
    # Given the module's default parameters
    # When a password is hashed and checked through the module functions
    encoded = passwords.hash_password("correct horse battery staple")
    # Then the hash is argon2id with exactly PARAMS, and it verifies
    params = extract_parameters(encoded)
    assert encoded.startswith("$argon2id$")
    assert params.type is Type.ID
    assert (params.time_cost, params.memory_cost, params.parallelism) == (
        passwords.PARAMS.time_cost,
        passwords.PARAMS.memory_cost,
        passwords.PARAMS.parallelism,
    )
    assert (params.hash_len, params.salt_len) == (passwords.PARAMS.hash_len, passwords.PARAMS.salt_len)
    assert passwords.needs_rehash(encoded) is False


def test_verify_is_true_when_the_password_matches(hasher):
    encoded = hasher.hash("a long enough password")
    assert hasher.verify(encoded, "a long enough password") is True


@pytest.mark.parametrize("attempt", ["a long enough passworD", "", "a long enough password ", "x" * 200])
def test_verify_is_false_without_raising_when_the_password_differs(hasher, attempt):
    encoded = hasher.hash("a long enough password")
    assert hasher.verify(encoded, attempt) is False


@pytest.mark.parametrize("stored", [None, "", "not-a-hash", "$argon2id$v=19$m=8,t=1,p=1$broken", "$2b$12$bcrypt"])
def test_verify_is_false_without_raising_when_the_stored_hash_is_missing_or_malformed(hasher, stored):
    assert hasher.verify(stored, "whatever password") is False


def test_hashes_are_salted_when_the_same_password_is_hashed_twice(hasher):
    assert hasher.hash("same password here") != hasher.hash("same password here")


def test_needs_rehash_when_the_hash_was_made_with_other_parameters(hasher):
    # Given a hash made under weaker parameters than the current ones
    old = Argon2idPasswords(Argon2Params(time_cost=1, memory_cost=8, parallelism=1, hash_len=16)).hash("pw")
    # Then the current hasher asks for a rehash, and not for its own hashes
    assert hasher.needs_rehash(old) is True
    assert hasher.needs_rehash(hasher.hash("pw")) is False


def test_needs_rehash_when_the_hash_is_argon2i_or_garbage(hasher):
    argon2i = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=32, salt_len=16, type=Type.I)
    assert hasher.needs_rehash(argon2i.hash("pw")) is True
    assert hasher.needs_rehash("garbage") is True


def test_params_are_stated_once_with_owasp_floor_or_more():
    # argon2id's OWASP floor is 19 MiB with two passes; the stated params must not drop below it.
    assert passwords.PARAMS.memory_cost >= 19 * 1024
    assert passwords.PARAMS.time_cost >= 2
