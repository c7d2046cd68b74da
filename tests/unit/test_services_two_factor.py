"""2FA use cases over FakeTwoFactorStore, with real TOTP codes from mamba.auth.totp."""

from __future__ import annotations

import pytest

from mamba.auth import totp
from mamba.domain.errors import ConflictError, NotFoundError, UnauthorizedError, ValidationError
from mamba.domain.two_factor import TwoFactorStatus
from mamba.services import two_factor
from tests.fakes import FakeHasher, FakeTwoFactorStore

NOW = 1_800_000_000.0
STEP = totp.STEP_SECONDS


@pytest.fixture
def store() -> FakeTwoFactorStore:
    fake = FakeTwoFactorStore()
    fake.add_user("usr_1", "one@example.org", FakeHasher().hash("correct horse battery"))
    return fake


def _enable(store: FakeTwoFactorStore) -> tuple[str, list[str]]:
    enrolment = two_factor.enrol("usr_1", store)
    codes = two_factor.confirm("usr_1", totp.code_at(enrolment.secret, totp.counter_for(NOW)), store, now=NOW)
    return enrolment.secret, codes


def _reason(exc: pytest.ExceptionInfo[UnauthorizedError]) -> str:
    return exc.value.details["reason"]


def test_enrol_returns_a_secret_and_its_otpauth_uri_while_pending(store):
    enrolment = two_factor.enrol("usr_1", store)

    assert enrolment.otpauth_uri.startswith("otpauth://totp/")
    assert f"secret={enrolment.secret}" in enrolment.otpauth_uri
    assert "one%40example.org" in enrolment.otpauth_uri
    assert two_factor.status("usr_1", store) == TwoFactorStatus(enabled=False, pending=True, recovery_codes_left=0)


def test_confirm_enables_and_returns_ten_distinct_recovery_codes_when_the_code_is_right(store):
    _, codes = _enable(store)

    assert len(codes) == len(set(codes)) == 10
    assert all(len(two_factor.normalise_recovery_code(c)) == 16 for c in codes)
    assert two_factor.status("usr_1", store).enabled
    assert store.hashes["usr_1"] == {two_factor.recovery_code_hash("usr_1", c) for c in codes}
    assert not any(c in str(store.states) for c in codes)  # only hashes are kept


def test_confirm_refuses_when_the_code_is_wrong(store):
    enrolment = two_factor.enrol("usr_1", store)
    wrong = totp.code_at(enrolment.secret, totp.counter_for(NOW) + 5)

    with pytest.raises(UnauthorizedError) as exc:
        two_factor.confirm("usr_1", wrong, store, now=NOW)

    assert _reason(exc) == "totp_invalid"
    assert not two_factor.status("usr_1", store).enabled


def test_confirm_conflicts_when_nothing_is_pending(store):
    with pytest.raises(ConflictError):
        two_factor.confirm("usr_1", "123456", store, now=NOW)


def test_enrol_conflicts_when_already_enabled(store):
    _enable(store)

    with pytest.raises(ConflictError):
        two_factor.enrol("usr_1", store)


def test_check_passes_without_a_code_when_2fa_is_off(store):
    assert two_factor.check_second_factor("usr_1", None, store) is None


def test_check_requires_a_code_when_2fa_is_on(store):
    _enable(store)

    with pytest.raises(UnauthorizedError) as exc:
        two_factor.check_second_factor("usr_1", "  ", store, now=NOW)

    assert _reason(exc) == "totp_required"


def test_check_accepts_a_current_code_once_and_refuses_its_replay(store):
    secret, _ = _enable(store)
    later = NOW + STEP
    code = totp.code_at(secret, totp.counter_for(later))

    assert two_factor.check_second_factor("usr_1", code, store, now=later) == "totp"
    with pytest.raises(UnauthorizedError) as exc:
        two_factor.check_second_factor("usr_1", code, store, now=later)

    assert _reason(exc) == "totp_invalid"


def test_check_refuses_the_code_used_to_confirm(store):
    secret, _ = _enable(store)

    with pytest.raises(UnauthorizedError) as exc:
        two_factor.check_second_factor("usr_1", totp.code_at(secret, totp.counter_for(NOW)), store, now=NOW)

    assert _reason(exc) == "totp_invalid"


def test_check_refuses_a_code_when_a_racing_login_moved_the_counter_first(store):
    secret, _ = _enable(store)
    later = NOW + 2 * STEP
    store.advance_counter("usr_1", totp.counter_for(later))  # the other login won the write

    with pytest.raises(UnauthorizedError):
        two_factor.check_second_factor("usr_1", totp.code_at(secret, totp.counter_for(later)), store, now=later)


def test_check_accepts_a_recovery_code_once_in_any_spelling(store):
    _, codes = _enable(store)
    spelled = codes[3].lower().replace("-", " ")

    assert two_factor.check_second_factor("usr_1", spelled, store, now=NOW) == "recovery_code"
    with pytest.raises(UnauthorizedError):
        two_factor.check_second_factor("usr_1", codes[3], store, now=NOW)
    assert two_factor.status("usr_1", store).recovery_codes_left == 9


def test_check_refuses_an_unknown_recovery_code(store):
    _enable(store)

    with pytest.raises(UnauthorizedError) as exc:
        two_factor.check_second_factor("usr_1", "AAAA-BBBB-CCCC-DDDD", store, now=NOW)

    assert _reason(exc) == "totp_invalid"


def test_check_is_not_found_when_the_user_is_unknown(store):
    with pytest.raises(NotFoundError):
        two_factor.check_second_factor("usr_missing", "123456", store)


def test_disable_with_a_current_code_turns_2fa_off(store):
    secret, _ = _enable(store)
    later = NOW + STEP

    two_factor.disable("usr_1", store, FakeHasher(), code=totp.code_at(secret, totp.counter_for(later)), now=later)

    assert two_factor.status("usr_1", store) == TwoFactorStatus(False, False, 0)
    assert two_factor.check_second_factor("usr_1", None, store) is None


def test_disable_with_a_recovery_code_and_password_turns_2fa_off(store):
    _, codes = _enable(store)

    two_factor.disable("usr_1", store, FakeHasher(), recovery_code=codes[0], password="correct horse battery")

    assert not two_factor.status("usr_1", store).enabled


def test_disable_refuses_when_the_password_is_wrong(store):
    _, codes = _enable(store)

    with pytest.raises(UnauthorizedError) as exc:
        two_factor.disable("usr_1", store, FakeHasher(), recovery_code=codes[0], password="wrong")

    assert _reason(exc) == "password_invalid"
    assert two_factor.status("usr_1", store).enabled


@pytest.mark.parametrize("kwargs", [{}, {"code": "123456", "recovery_code": "AAAA"}], ids=["neither", "both"])
def test_disable_needs_exactly_one_code(store, kwargs):
    _enable(store)

    with pytest.raises(ValidationError):
        two_factor.disable("usr_1", store, FakeHasher(), **kwargs)


def test_disable_refuses_a_replayed_code(store):
    secret, _ = _enable(store)

    with pytest.raises(UnauthorizedError):
        two_factor.disable("usr_1", store, FakeHasher(), code=totp.code_at(secret, totp.counter_for(NOW)), now=NOW)
    assert two_factor.status("usr_1", store).enabled


def test_disable_refuses_a_recovery_code_given_as_code(store):
    _, codes = _enable(store)

    with pytest.raises(UnauthorizedError):
        two_factor.disable("usr_1", store, FakeHasher(), code=codes[0])
    assert two_factor.status("usr_1", store).recovery_codes_left == 10


def test_disable_conflicts_when_2fa_is_off(store):
    with pytest.raises(ConflictError):
        two_factor.disable("usr_1", store, FakeHasher(), code="123456")


def test_confirm_is_rate_limited_after_five_wrong_codes_until_the_window_ends(store):
    from mamba.domain.errors import RateLimitedError
    from tests.fakes import FakeRateLimiter

    limiter = FakeRateLimiter()
    enrolment = two_factor.enrol("usr_1", store)
    wrong = totp.code_at(enrolment.secret, totp.counter_for(NOW) + 9)
    right = totp.code_at(enrolment.secret, totp.counter_for(NOW))
    for _ in range(two_factor.CODE_FAILURES.max):
        with pytest.raises(UnauthorizedError):
            two_factor.confirm("usr_1", wrong, store, limiter=limiter, now=NOW)

    with pytest.raises(RateLimitedError) as limited:
        two_factor.confirm("usr_1", right, store, limiter=limiter, now=NOW)

    assert 0 < limited.value.retry_after <= two_factor.CODE_FAILURES.window
    later = NOW + two_factor.CODE_FAILURES.window
    fresh = totp.code_at(enrolment.secret, totp.counter_for(later))
    assert len(two_factor.confirm("usr_1", fresh, store, limiter=limiter, now=later)) == 10


def test_disable_counts_wrong_passwords_and_codes_towards_the_limit(store):
    from mamba.domain.errors import RateLimitedError
    from tests.fakes import FakeRateLimiter

    limiter = FakeRateLimiter()
    _, codes = _enable(store)
    for attempt in range(two_factor.CODE_FAILURES.max):
        kwargs = {"recovery_code": codes[0], "password": "wrong"} if attempt % 2 else {"code": "000000"}
        with pytest.raises(UnauthorizedError):
            two_factor.disable("usr_1", store, FakeHasher(), limiter=limiter, now=NOW, **kwargs)

    with pytest.raises(RateLimitedError):
        two_factor.disable("usr_1", store, FakeHasher(), recovery_code=codes[0], limiter=limiter, now=NOW)
    assert two_factor.status("usr_1", store).recovery_codes_left == 10
