"""In-app notifications, notification mail and preferences (docs/notifications.md): the events
consumer on moto, and /v1/me/notifications..., /v1/me/notification-preferences."""

from __future__ import annotations

import pytest

from mamba.domain.events import make_event
from tests.api.notification_support import deliver_queued, drain, publish, run_consumer
from tests.api.tenancy_helpers import Api, join, mail_to, make_world

T = "2026-12-05T09:00:00Z"


@pytest.fixture
def api(client):
    return make_world(client)


def backup_failed(key: str = "op_1:fail", server_id: str = "srv_1", tenant_id: str = "tn_a"):
    return make_event(
        "backup.failed",
        dedupe_key=key,
        occurred_at=T,
        tenant_id=tenant_id,
        server_id=server_id,
        payload={"server_name": "Survival", "backup_name": "nightly", "reason": "Wings refused"},
    )


def notifications(api: Api, user_id: str, query: str = "") -> list[dict]:
    answer = api.get(f"/v1/me/notifications{query}", user_id)
    assert answer.status_code == 200, answer.json_body
    return answer.json_body["items"]


def unread(api: Api, user_id: str) -> int:
    return api.get("/v1/me", user_id).json_body["unread_notifications"]


def test_a_failure_reaches_the_member_in_app_and_by_mail_when_delivered(api):
    # Given a backup.failed event of tn_a's server on the queue
    publish(backup_failed())

    # When the consumer runs
    assert deliver_queued() == {"batchItemFailures": []}

    # Then alice (tn_a's owner) has it in-app, unread, and by mail; bob (tn_b) has nothing
    items = notifications(api, "usr_alice")
    assert [(n["type"], n["read"], n["severity"], n["server_id"]) for n in items] == [
        ("backup.failed", False, "error", "srv_1")
    ]
    assert items[0]["payload"]["backup_name"] == "nightly"
    assert unread(api, "usr_alice") == 1
    mails = mail_to("alice@example.org")
    assert len(mails) == 1 and "Backup nightly failed" in mails[0].subject
    assert "/t/tn_a/servers/srv_1" in str(mails[0].body)
    assert notifications(api, "usr_bob") == [] and mail_to("bob@example.org") == []


def test_a_repeated_event_notifies_once_when_published_twice_and_redelivered(api):
    # Given the same event published twice (a retried step) and each message delivered twice (SQS)
    publish(backup_failed(), backup_failed())

    deliver_queued(repeat=2)

    # Then one notification, one count, one mail
    assert len(notifications(api, "usr_alice")) == 1
    assert unread(api, "usr_alice") == 1
    assert len(mail_to("alice@example.org")) == 1


def test_a_routine_success_is_in_app_only_when_preferences_are_the_defaults(api):
    publish(
        make_event(
            "backup.completed",
            dedupe_key="op_2",
            occurred_at=T,
            tenant_id="tn_a",
            server_id="srv_1",
            payload={"server_name": "Survival", "backup_name": "nightly", "bytes": 1024},
        )
    )
    deliver_queued()

    assert [n["type"] for n in notifications(api, "usr_alice")] == ["backup.completed"]
    assert mail_to("alice@example.org") == []


def test_only_members_who_can_see_the_server_get_its_events_when_a_subuser_is_scoped(api):
    # Given carol, a viewer scoped to srv_2, and dave, a viewer of the whole tenant
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer", server_id="srv_2")
    join(api, "tn_a", "usr_alice", "usr_dave", "dave@example.org", "viewer")
    # (viewers lack backups.read, so give the event a permission they hold: server.crashed needs servers.read)
    crashed = make_event(
        "server.crashed",
        dedupe_key="srv_1:1700000000",
        occurred_at=T,
        tenant_id="tn_a",
        server_id="srv_1",
        payload={"server_name": "Survival", "exit_code": 137},
    )
    publish(crashed)
    deliver_queued()

    assert [n["type"] for n in notifications(api, "usr_dave")] == ["server.crashed"]
    assert notifications(api, "usr_carol") == []  # scoped to another server


def test_members_without_the_event_permission_get_nothing_when_billing_fails(api):
    join(api, "tn_a", "usr_alice", "usr_dave", "dave@example.org", "viewer")
    publish(
        make_event(
            "payment.failed",
            dedupe_key="evt_stripe_1",
            occurred_at=T,
            tenant_id="tn_a",
            payload={"invoice_id": "in_1", "amount": 500, "currency": "eur"},
        )
    )
    deliver_queued()

    # (alice also heard that dave joined: member.added, emitted by the invitation's acceptance)
    assert sorted(n["type"] for n in notifications(api, "usr_alice")) == ["member.added", "payment.failed"]
    assert notifications(api, "usr_dave") == []  # a viewer has no billing.read (nor members.read)


def test_platform_events_reach_platform_admins_only_when_a_node_goes_down(api):
    publish(
        make_event(
            "node.down",
            dedupe_key="node_1:down:1",
            occurred_at=T,
            tenant_id=None,
            payload={"node_id": "node_1", "node_name": "fsn-1"},
        )
    )
    deliver_queued()

    assert [n["type"] for n in notifications(api, "usr_root")] == ["node.down"]
    assert notifications(api, "usr_alice") == []
    assert len(mail_to("root@example.org")) == 1


def test_marking_read_by_id_and_all_updates_the_list_and_the_count_when_called(api):
    # Given three unread notifications
    publish(*(backup_failed(key=f"op_{n}") for n in range(3)))
    deliver_queued()
    ids = [n["id"] for n in notifications(api, "usr_alice")]
    assert len(ids) == 3 and unread(api, "usr_alice") == 3

    # When one is marked read (twice), and bob marks alice's ids
    first = api.post("/v1/me/notifications/read", "usr_alice", {"ids": [ids[0]]})
    again = api.post("/v1/me/notifications/read", "usr_alice", {"ids": [ids[0]]})
    foreign = api.post("/v1/me/notifications/read", "usr_bob", {"ids": ids})

    # Then it counts once, and bob changed nothing
    assert first.json_body == {"marked": 1, "unread_notifications": 2}
    assert again.json_body == {"marked": 0, "unread_notifications": 2}
    assert foreign.json_body == {"marked": 0, "unread_notifications": 0}
    assert [n["id"] for n in notifications(api, "usr_alice", "?unread=true")] == ids[1:]

    # When all are marked read
    everything = api.post("/v1/me/notifications/read", "usr_alice", {"all": True})
    assert everything.json_body == {"marked": 2, "unread_notifications": 0}
    assert notifications(api, "usr_alice", "?unread=true") == []
    assert all(n["read"] for n in notifications(api, "usr_alice"))


def test_mark_read_refuses_neither_ids_nor_all_when_the_body_is_empty(api):
    answer = api.post("/v1/me/notifications/read", "usr_alice", {})
    assert answer.status_code == 400
    assert answer.json_body["error"]["code"] == "VALIDATION_ERROR"


def test_the_list_pages_with_a_cursor_when_there_are_more(api):
    publish(*(backup_failed(key=f"op_{n}") for n in range(3)))
    deliver_queued()

    first = api.get("/v1/me/notifications?limit=2", "usr_alice").json_body
    rest = api.get(f"/v1/me/notifications?limit=2&cursor={first['next_cursor']}", "usr_alice").json_body

    assert len(first["items"]) == 2 and first["next_cursor"]
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    # bob cannot use alice's cursor
    assert api.get(f"/v1/me/notifications?cursor={first['next_cursor']}", "usr_bob").status_code == 400


def test_preferences_default_to_mail_for_failures_and_in_app_for_successes_when_never_changed(api):
    answer = api.get("/v1/me/notification-preferences", "usr_alice")

    assert answer.status_code == 200
    events = {e["type"]: e["channels"] for e in answer.json_body["events"]}
    assert answer.json_body["language"] == "en"
    assert events["backup.failed"] == {"in_app": True, "email": True}
    assert events["backup.completed"] == {"in_app": True, "email": False}
    assert events["api_key.created"] == {"in_app": True, "email": True}
    assert "node.down" not in events  # platform events: admins only
    root = {e["type"] for e in api.get("/v1/me/notification-preferences", "usr_root").json_body["events"]}
    assert "node.down" in root


def test_a_user_without_mail_for_a_type_gets_it_in_app_only_when_they_turned_mail_off(api):
    changed = api.patch(
        "/v1/me/notification-preferences", "usr_alice", {"channels": {"backup.failed": {"email": False}}}
    )
    assert changed.status_code == 200
    assert {e["type"]: e["channels"] for e in changed.json_body["events"]}["backup.failed"] == {
        "in_app": True,
        "email": False,
    }

    publish(backup_failed())
    deliver_queued()

    assert len(notifications(api, "usr_alice")) == 1
    assert mail_to("alice@example.org") == []


def test_the_mail_is_in_the_users_language_when_they_chose_german(api):
    assert api.patch("/v1/me/notification-preferences", "usr_alice", {"language": "de"}).status_code == 200

    publish(backup_failed())
    deliver_queued()

    (mail,) = mail_to("alice@example.org")
    assert "Backup nightly fehlgeschlagen" in mail.subject
    assert "Hallo" in str(mail.body)


def test_the_mail_follows_the_panels_language_until_the_user_chooses_one(api):
    # Given alice's panel runs in German (the web app reports it) and she never chose
    answer = api.patch("/v1/me/notification-preferences", "usr_alice", {"panel_language": "de"})
    assert answer.json_body["language"] == "de" and answer.json_body["language_chosen"] is False

    publish(backup_failed(key="op_de"))
    deliver_queued()

    # Then her mail is German
    (mail,) = mail_to("alice@example.org")
    assert "fehlgeschlagen" in mail.subject

    # And once she chooses English, the panel's German no longer decides
    chosen = api.patch("/v1/me/notification-preferences", "usr_alice", {"language": "en", "panel_language": "de"})
    assert (chosen.json_body["language"], chosen.json_body["language_chosen"]) == ("en", True)


def test_preferences_refuse_an_unknown_event_type_when_patched(api):
    answer = api.patch("/v1/me/notification-preferences", "usr_alice", {"channels": {"nope.nothing": {"email": True}}})

    assert answer.status_code == 400
    assert answer.json_body["error"]["code"] == "VALIDATION_ERROR"


# --- emitted by the services where it happens, through the API ---


def test_a_new_api_key_is_announced_in_the_owners_tenant_when_created(api):
    created = api.post("/v1/me/api-keys", "usr_alice", {"name": "deploy bot", "scopes": ["servers.read"]})
    assert created.status_code == 201, created.json_body

    deliver_queued()

    (note,) = notifications(api, "usr_alice")
    assert note["type"] == "api_key.created" and note["tenant_id"] == "tn_a"
    assert note["payload"] == {"key_name": "deploy bot", "owner_email": "alice@example.org"}
    assert any("deploy bot" in m.subject for m in mail_to("alice@example.org"))  # a security event is mailed


def test_joining_and_removal_reach_the_members_who_read_members_when_they_happen(api):
    join(api, "tn_a", "usr_alice", "usr_carol", "carol@example.org", "viewer")
    assert api.delete("/v1/tenants/tn_a/members/usr_carol", "usr_alice").status_code == 204

    deliver_queued()

    found = {n["type"]: n["payload"] for n in notifications(api, "usr_alice")}
    assert found == {
        "member.added": {"email": "carol@example.org", "role": "viewer"},
        "member.removed": {"email": "carol@example.org"},
    }
    assert notifications(api, "usr_carol") == []  # removed before delivery, and a viewer reads no members


def test_the_request_still_succeeds_when_the_events_queue_refuses(api, monkeypatch):
    # Given a queue that refuses every send (the change is committed first; the event is logged as lost)
    from mamba import bootstrap
    from tests.fakes import FakeEventPublisher

    with bootstrap.override(event_publisher=FakeEventPublisher(fail=True)):
        created = api.post("/v1/me/api-keys", "usr_alice", {"name": "ci", "scopes": ["servers.read"]})

    assert created.status_code == 201


def test_deleting_the_account_deletes_its_notifications_and_preferences(api):
    # Given bob (tn_b's owner, a password set) with a notification and changed preferences
    import json as _json

    from mamba import bootstrap
    from mamba.adapters.dynamo.users import DynamoUserRepository
    from mamba.domain.pages import PageRequest

    DynamoUserRepository().set_password_hash("usr_bob", bootstrap.password_hasher().hash("a long enough password 1"))
    publish(backup_failed(tenant_id="tn_b"))
    deliver_queued()
    assert api.patch("/v1/me/notification-preferences", "usr_bob", {"language": "de"}).status_code == 200
    store = bootstrap.notification_store()
    assert len(store.listing("usr_bob", PageRequest(), unread_only=False).items) == 1

    # When bob deletes his account
    gone = api.client.http.request(
        "DELETE",
        "/v1/me",
        headers=api.as_("usr_bob"),
        body=_json.dumps({"current_password": "a long enough password 1"}),
    )

    # Then nothing of his notifications is left
    assert gone.status_code == 200, gone.json_body
    assert store.listing("usr_bob", PageRequest(), unread_only=False).items == []
    assert store.preferences("usr_bob").language == "en"


def test_the_consumer_hands_tenant_events_to_the_webhooks_fan_out_and_platform_events_not(api, monkeypatch):
    from mamba.services import webhooks

    handed: list[str] = []
    monkeypatch.setattr(webhooks, "fan_out", lambda ports, event: handed.append(event.type) or 1)
    publish(
        backup_failed(),
        make_event(
            "node.down", dedupe_key="n1", occurred_at=T, tenant_id=None, payload={"node_id": "n1", "node_name": "a"}
        ),
    )

    assert deliver_queued() == {"batchItemFailures": []}

    assert handed == ["backup.failed"]


def test_a_record_that_fails_is_reported_alone_and_its_retry_completes_it(api, monkeypatch):
    # Given SES refusing the first send (the in-app notification is stored, the mail claim given back)
    from mamba.adapters.ses import SesMailer

    real_send = SesMailer.send
    calls: list[str] = []

    def send_failing_once(self, to, subject, text, html=None):
        calls.append(to)
        if len(calls) == 1:
            from mamba.domain.errors import DependencyUnavailableError

            raise DependencyUnavailableError("SES is busy")
        return real_send(self, to, subject, text, html)

    monkeypatch.setattr(SesMailer, "send", send_failing_once)
    publish(backup_failed())

    # When the consumer runs: the record fails alone; SQS redelivers it and the retry succeeds
    messages = drain()
    assert run_consumer(messages) == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert run_consumer(messages) == {"batchItemFailures": []}

    # Then, in the end, one notification and one mail
    assert len(notifications(api, "usr_alice")) == 1 and unread(api, "usr_alice") == 1
    assert len(mail_to("alice@example.org")) == 1


def test_a_service_accounts_key_and_a_rotated_key_are_announced_too(api):
    # Given alice's key rotated, and a key made for one of tn_a's service accounts
    mine = api.post("/v1/me/api-keys", "usr_alice", {"name": "deploy", "scopes": ["servers.read"]}).json_body
    rotated = api.post(f"/v1/me/api-keys/{mine['id']}/rotate", "usr_alice", {"grace_seconds": 0})
    assert rotated.status_code == 201, rotated.json_body
    account = api.post("/v1/tenants/tn_a/service-accounts", "usr_alice", {"name": "ci", "role": "viewer"}).json_body
    made = api.post(
        f"/v1/tenants/tn_a/service-accounts/{account['id']}/keys",
        "usr_alice",
        {"name": "ci key", "scopes": ["servers.read"]},
    )
    assert made.status_code == 201, made.json_body

    deliver_queued()

    # Then alice heard of all three keys in tn_a
    found = sorted(
        n["payload"]["owner_email"] + "/" + n["payload"]["key_name"] for n in notifications(api, "usr_alice")
    )
    assert found == ["alice@example.org/deploy", "alice@example.org/deploy", "service account ci/ci key"]
