"""/v1/me/2fa through chalice.test.Client on moto, with real TOTP codes from mamba.auth.totp."""

from __future__ import annotations

import json
import time

import pytest

from mamba import bootstrap
from mamba.auth import totp
from mamba.domain.errors import UnauthorizedError
from mamba.services import two_factor
from tests.api.security_world import PASSWORD, World, build_world


@pytest.fixture
def world(client) -> World:
    return build_world()


def _post(client, world: World, path: str, body: dict | None = None, who: str = "alice"):
    return client.http.post(f"/v1/me/2fa{path}", headers=world.headers(who), body=json.dumps(body or {}))


def _now_code(secret: str, steps_ahead: int = 0) -> str:
    return totp.code_at(secret, totp.counter_for(time.time()) + steps_ahead)


class Enabled:
    """2FA confirmed with the code of step ``counter``; ``used`` replays it, ``fresh`` is the
    next step's code (still inside the accepted window for the rest of a test)."""

    def __init__(self, secret: str, counter: int, codes: list[str]) -> None:
        self.secret, self.counter, self.codes = secret, counter, codes
        self.used = totp.code_at(secret, counter)
        self.fresh = totp.code_at(secret, counter + 1)


def _enable(client, world: World) -> Enabled:
    secret = _post(client, world, "/enrol").json_body["secret"]
    counter = totp.counter_for(time.time())
    confirmed = _post(client, world, "/confirm", {"code": totp.code_at(secret, counter)})
    assert confirmed.status_code == 200, confirmed.json_body
    return Enabled(secret, counter, confirmed.json_body["recovery_codes"])


def _status(client, world: World) -> dict:
    return client.http.get("/v1/me/2fa", headers=world.headers("alice")).json_body


def test_enrol_then_confirm_enables_2fa_with_ten_recovery_codes(client, world):
    # Given alice starts enrolment
    enrolment = _post(client, world, "/enrol")
    assert enrolment.status_code == 200
    secret = enrolment.json_body["secret"]
    assert enrolment.json_body["otpauth_uri"].startswith("otpauth://totp/")
    assert _status(client, world) == {"enabled": False, "pending": True, "recovery_codes_left": 0}

    # When she confirms with the code her authenticator shows
    confirmed = _post(client, world, "/confirm", {"code": _now_code(secret)})

    # Then 2FA is on, with 10 recovery codes stored only as hashes
    assert confirmed.status_code == 200
    codes = confirmed.json_body["recovery_codes"]
    assert confirmed.json_body["enabled"] is True and len(set(codes)) == 10
    assert _status(client, world) == {"enabled": True, "pending": False, "recovery_codes_left": 10}
    from mamba.adapters.dynamo import keys
    from mamba.adapters.dynamo.items import UserItem

    stored = UserItem.get(*keys.user("usr_alice"), consistent_read=True)
    assert stored.totp_enabled and stored.totp_secret == secret
    assert stored.recovery_code_hashes == {two_factor.recovery_code_hash("usr_alice", c) for c in codes}
    assert not any(c in json.dumps(stored.serialize()) for c in codes)


def test_confirm_is_401_totp_invalid_when_the_code_is_wrong(client, world):
    secret = _post(client, world, "/enrol").json_body["secret"]

    response = _post(client, world, "/confirm", {"code": _now_code(secret, steps_ahead=10)})

    assert response.status_code == 401
    assert response.json_body["error"]["details"]["reason"] == "totp_invalid"
    assert _status(client, world)["enabled"] is False


def test_confirm_is_409_when_no_enrolment_is_pending(client, world):
    assert _post(client, world, "/confirm", {"code": "123456"}).status_code == 409


def test_enrol_is_409_when_2fa_is_already_on(client, world):
    _enable(client, world)

    assert _post(client, world, "/enrol").status_code == 409


def test_login_check_takes_a_fresh_code_and_refuses_its_replay(client, world):
    # Given 2FA is on (the confirm used the current step)
    enabled = _enable(client, world)
    store = bootstrap.two_factor_store()

    # Then the login check needs a code, refuses the one used to confirm, and takes the next once
    with pytest.raises(UnauthorizedError) as missing:
        two_factor.check_second_factor("usr_alice", None, store)
    assert missing.value.details == {"reason": "totp_required"}
    with pytest.raises(UnauthorizedError):
        two_factor.check_second_factor("usr_alice", enabled.used, store)
    assert two_factor.check_second_factor("usr_alice", enabled.fresh, store) == "totp"
    with pytest.raises(UnauthorizedError) as replay:
        two_factor.check_second_factor("usr_alice", enabled.fresh, store)
    assert replay.value.details == {"reason": "totp_invalid"}


def test_recovery_codes_work_once_each(client, world):
    codes = _enable(client, world).codes
    store = bootstrap.two_factor_store()

    assert two_factor.check_second_factor("usr_alice", codes[0], store) == "recovery_code"
    with pytest.raises(UnauthorizedError):
        two_factor.check_second_factor("usr_alice", codes[0], store)
    assert two_factor.check_second_factor("usr_alice", codes[1].lower(), store) == "recovery_code"
    assert _status(client, world)["recovery_codes_left"] == 8


def test_disable_with_a_fresh_code_turns_2fa_off(client, world):
    enabled = _enable(client, world)

    response = _post(client, world, "/disable", {"code": enabled.fresh})

    assert response.status_code == 200 and response.json_body == {"enabled": False}
    assert _status(client, world) == {"enabled": False, "pending": False, "recovery_codes_left": 0}
    assert two_factor.check_second_factor("usr_alice", None, bootstrap.two_factor_store()) is None


def test_disable_refuses_the_code_already_used(client, world):
    enabled = _enable(client, world)

    response = _post(client, world, "/disable", {"code": enabled.used})

    assert response.status_code == 401
    assert _status(client, world)["enabled"] is True


def test_disable_with_a_recovery_code_and_the_password(client, world):
    codes = _enable(client, world).codes

    wrong = _post(client, world, "/disable", {"recovery_code": codes[0], "password": "not the password"})
    right = _post(client, world, "/disable", {"recovery_code": codes[0], "password": PASSWORD})

    assert wrong.status_code == 401 and wrong.json_body["error"]["details"]["reason"] == "password_invalid"
    assert right.status_code == 200
    assert _status(client, world)["enabled"] is False


def test_disable_is_400_when_no_code_is_given(client, world):
    _enable(client, world)

    response = _post(client, world, "/disable", {"password": PASSWORD})

    assert response.status_code == 400
    assert _status(client, world)["enabled"] is True


def test_2fa_routes_are_401_without_credentials(client, world):
    assert client.http.post("/v1/me/2fa/enrol", body="{}").status_code == 401
    assert client.http.get("/v1/me/2fa").status_code == 401


def test_confirm_answers_429_with_retry_after_after_five_wrong_codes(client, world):
    secret = _post(client, world, "/enrol").json_body["secret"]
    wrong = _now_code(secret, steps_ahead=10)
    statuses = [_post(client, world, "/confirm", {"code": wrong}).status_code for _ in range(5)]

    limited = _post(client, world, "/confirm", {"code": _now_code(secret)})

    assert statuses == [401] * 5
    assert limited.status_code == 429
    assert limited.json_body["error"]["code"] == "RATE_LIMITED"
    assert int(limited.headers["Retry-After"]) >= 1
    assert _status(client, world)["enabled"] is False
