"""The caller's sign-in sessions through the real app on moto: ``GET /v1/me/sessions`` lists
the live refresh-token families with the current one marked, ``DELETE`` ends one (its refresh
stops working), another user's session is 404, and an API key may list but not end them."""

from __future__ import annotations

from typing import Any

from tests.api.test_account_takeover import key_headers, new_key
from tests.api.test_accounts import (  # noqa: F401 - fixtures: configure, cheap_hashing (autouse)
    EMAIL,
    PASSWORD,
    bearer,
    cheap_hashing,
    configure,
    post,
    verified_account,
)

LAPTOP = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari/604.1"


def sign_in(client: Any, user_agent: str, email: str = EMAIL) -> dict[str, Any]:
    response = post(client, "/v1/auth/login", {"email": email, "password": PASSWORD}, {"User-Agent": user_agent})
    assert response.status_code == 200, response.json_body
    return dict(response.json_body)


def sessions_of(client: Any, pair: dict[str, Any], **query: str) -> Any:
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return client.http.get(f"/v1/me/sessions{'?' + suffix if suffix else ''}", headers=bearer(pair["access_token"]))


def refresh(client: Any, pair: dict[str, Any]) -> Any:
    return post(client, "/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}, {"User-Agent": PHONE + " v2"})


def family(pair: dict[str, Any]) -> str:
    return str(pair["refresh_token"]).partition(".")[0]


def test_list_shows_every_session_newest_first_with_the_current_one_marked(client):
    # Given a user signed in on a laptop and then on a phone
    verified_account(client)
    laptop = sign_in(client, LAPTOP)
    phone = sign_in(client, PHONE)

    # When the laptop lists the sessions
    listed = sessions_of(client, laptop)

    # Then both are there, newest first, the laptop's marked current, with their User-Agents
    assert listed.status_code == 200, listed.json_body
    items = listed.json_body["items"]
    assert [s["id"] for s in items] == [family(phone), family(laptop)]
    assert [s["current"] for s in items] == [False, True]
    assert [s["user_agent"] for s in items] == [PHONE, LAPTOP]
    assert all(s["last_used_at"] is None and s["created_at"] and s["expires_at"] for s in items)
    assert listed.json_body["next_cursor"] is None
    # And no token or digest is in the answer
    assert phone["refresh_token"].partition(".")[2] not in listed.body.decode()


def test_a_refresh_records_its_use_and_keeps_the_current_mark_on_the_new_access_token(client):
    verified_account(client)
    laptop = sign_in(client, LAPTOP)

    rotated = refresh(client, laptop)

    assert rotated.status_code == 200, rotated.json_body
    [entry] = sessions_of(client, rotated.json_body).json_body["items"]
    assert entry["id"] == family(laptop)
    assert entry["current"] is True
    assert entry["last_used_at"] is not None
    assert entry["user_agent"] == PHONE + " v2"


def test_pages_follow_the_signed_cursor_and_a_forged_one_is_400(client):
    verified_account(client)
    pairs = [sign_in(client, f"{LAPTOP} #{n}") for n in range(3)]

    first = sessions_of(client, pairs[0], limit="2")
    second = sessions_of(client, pairs[0], limit="2", cursor=first.json_body["next_cursor"])
    forged = sessions_of(client, pairs[0], cursor=first.json_body["next_cursor"][:-2] + "AA")

    assert first.status_code == 200 and len(first.json_body["items"]) == 2
    assert [s["id"] for s in first.json_body["items"] + second.json_body["items"]] == [
        family(p) for p in reversed(pairs)
    ]
    assert second.json_body["next_cursor"] is None
    assert forged.status_code == 400
    assert forged.json_body["error"]["code"] == "VALIDATION_ERROR"


def test_revoking_a_session_ends_its_refresh_and_drops_it_from_the_list(client):
    # Given a user signed in on a laptop and a phone
    verified_account(client)
    laptop = sign_in(client, LAPTOP)
    phone = sign_in(client, PHONE)

    # When the laptop signs the phone out
    revoked = client.http.delete(f"/v1/me/sessions/{family(phone)}", headers=bearer(laptop["access_token"]))

    # Then the phone's refresh token is refused, the laptop's still works, and the list shows the laptop only
    assert revoked.status_code == 204, revoked.body
    refused = refresh(client, phone)
    assert refused.status_code == 401
    assert refused.json_body["error"]["details"]["reason"] == "revoked"
    rotated = refresh(client, laptop)
    assert rotated.status_code == 200
    assert [s["id"] for s in sessions_of(client, rotated.json_body).json_body["items"]] == [family(laptop)]
    # And revoking it again is still 204 (idempotent for one's own session)
    again = client.http.delete(f"/v1/me/sessions/{family(phone)}", headers=bearer(laptop["access_token"]))
    assert again.status_code == 204


def test_another_users_session_is_404_and_stays_alive(client):
    verified_account(client)
    verified_account(client, "bob@example.com")
    ada = sign_in(client, LAPTOP)
    bob = sign_in(client, PHONE, email="bob@example.com")

    theirs = client.http.delete(f"/v1/me/sessions/{family(bob)}", headers=bearer(ada["access_token"]))
    unknown = client.http.delete("/v1/me/sessions/rf_doesnotexist0", headers=bearer(ada["access_token"]))

    assert theirs.status_code == 404, theirs.json_body
    assert theirs.json_body["error"]["code"] == unknown.json_body["error"]["code"] == "NOT_FOUND"
    assert theirs.json_body["error"]["message"] == unknown.json_body["error"]["message"]
    assert refresh(client, bob).status_code == 200
    assert [s["id"] for s in sessions_of(client, ada).json_body["items"]] == [family(ada)]


def test_an_api_key_may_list_sessions_but_not_end_them(client):
    verified_account(client)
    laptop = sign_in(client, LAPTOP)
    key = key_headers(
        new_key(client, {**bearer(laptop["access_token"]), "Content-Type": "application/json"}).json_body["key"]
    )

    listed = client.http.get("/v1/me/sessions", headers=key)
    refused = client.http.delete(f"/v1/me/sessions/{family(laptop)}", headers=key)

    assert listed.status_code == 200
    assert [s["current"] for s in listed.json_body["items"]] == [False]  # a key is no session
    assert refused.status_code == 403, refused.json_body
    assert refused.json_body["error"]["code"] == "SESSION_REQUIRED"
    assert refresh(client, laptop).status_code == 200


def test_sessions_ended_everywhere_are_not_listed(client):
    verified_account(client)
    laptop = sign_in(client, LAPTOP)
    out = post(client, "/v1/auth/logout", {"refresh_token": laptop["refresh_token"], "everywhere": True})
    assert out.status_code == 200
    fresh = sign_in(client, PHONE)

    assert [s["id"] for s in sessions_of(client, fresh).json_body["items"]] == [family(fresh)]
