"""Notifications on fakes (docs/notifications.md): who receives an event, on which channels, the
dedupe of in-app and mail, preferences, the mail texts, and the emitters' dedupe keys."""

from __future__ import annotations

import pytest

from mamba.domain.errors import DependencyUnavailableError, ValidationError
from mamba.domain.events import CATALOGUE, make_event
from mamba.domain.notifications import (
    Binding,
    Preferences,
    Recipient,
    change_preferences,
    check_read_ids,
    default_channels,
    receives,
)
from mamba.domain.permissions import BUILTIN_ROLES
from mamba.domain.quotas import crossed_warning
from mamba.notification_mail import TEXTS, render
from mamba.services import notifications as svc
from tests.fakes import FakeEventPublisher, FakeMailer, FakeNotificationStore

NOW = 1_764_925_200
T = "2026-12-05T09:00:00Z"


def crashed(server_id: str = "srv_1", key: str = "k1"):
    return make_event(
        "server.crashed",
        dedupe_key=key,
        occurred_at=T,
        tenant_id="tn_a",
        server_id=server_id,
        payload={"server_name": "Survival", "exit_code": 1},
    )


def world() -> tuple[svc.NotifyPorts, FakeNotificationStore, FakeMailer]:
    store = FakeNotificationStore()
    store.members["tn_a"] = [
        Binding("usr_owner", BUILTIN_ROLES["owner"]),
        Binding("usr_sub", BUILTIN_ROLES["viewer"], server_id="srv_2"),
        Binding("usr_gone", BUILTIN_ROLES["viewer"], expires_at=NOW - 1),
    ]
    for user_id in ("usr_owner", "usr_sub", "usr_gone"):
        store.people[user_id] = Recipient(user_id, f"{user_id}@example.org")
    mailer = FakeMailer()
    ports = svc.NotifyPorts(store, mailer, lambda: NOW, lambda: T, "https://panel.example")
    return ports, store, mailer


# --- the rules ---


@pytest.mark.parametrize(
    ("binding", "server_id", "expected"),
    [
        (Binding("u", BUILTIN_ROLES["viewer"]), "srv_1", True),
        (Binding("u", BUILTIN_ROLES["viewer"], server_id="srv_1"), "srv_1", True),
        (Binding("u", BUILTIN_ROLES["viewer"], server_id="srv_2"), "srv_1", False),
        (Binding("u", BUILTIN_ROLES["viewer"], expires_at=NOW), "srv_1", False),
        (Binding("u", frozenset({"files.read"})), "srv_1", False),
    ],
)
def test_receives_only_with_the_permission_an_unexpired_grant_and_the_server_in_scope(binding, server_id, expected):
    assert receives(binding, crashed(server_id), NOW) is expected


def test_failures_and_security_events_are_mailed_by_default_and_successes_are_not():
    assert default_channels(CATALOGUE["backup.failed"]) == {"in_app", "email"}
    assert default_channels(CATALOGUE["api_key.created"]) == {"in_app", "email"}
    assert default_channels(CATALOGUE["backup.completed"]) == {"in_app"}
    # billing mails a failed payment to the owners itself (with the invoice link): not twice
    assert default_channels(CATALOGUE["payment.failed"]) == {"in_app"}


def test_change_preferences_keeps_the_other_channel_when_one_is_switched():
    changed = change_preferences(Preferences(), channels={"backup.completed": {"email": True}}, language="de")

    assert changed.channels_for("backup.completed") == {"in_app", "email"}
    assert changed.channels_for("backup.failed") == {"in_app", "email"}  # untouched: the default
    assert changed.language == "de"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"language": "fr"}, "language"),
        ({"channels": {"nope": {"email": True}}}, "channels.nope"),
        ({"channels": {"backup.failed": {"sms": True}}}, "channels.backup.failed"),
    ],
)
def test_change_preferences_refuses_what_it_does_not_know(kwargs, field):
    with pytest.raises(ValidationError) as refused:
        change_preferences(Preferences(), **kwargs)
    assert refused.value.details["fields"][0]["field"] == field


def test_check_read_ids_wants_ids_or_all_but_not_both():
    assert check_read_ids(["a", "a", "b"], False) == ["a", "b"]
    assert check_read_ids(None, True) == []
    for ids, all_ in ((None, False), (["a"], True), ([str(n) for n in range(101)], False)):
        with pytest.raises(ValidationError):
            check_read_ids(ids, all_)


@pytest.mark.parametrize(("before", "after", "crossed"), [(7, 8, True), (8, 9, False), (5, 7, False), (0, 10, True)])
def test_a_quota_warning_fires_when_usage_crosses_80_percent_upward(before, after, crossed):
    assert crossed_warning(10, before, after) is crossed
    assert crossed_warning(-1, before, after) is False  # unlimited


def test_every_event_type_has_an_english_and_a_german_mail():
    assert set(TEXTS) == set(CATALOGUE)
    assert all(set(texts) == {"en", "de"} for texts in TEXTS.values())


def test_the_mail_names_the_server_links_to_it_and_falls_back_to_english():
    event = crashed()
    english = render(event, "en", "https://panel.example/", "Ada")
    german = render(event, "de", "https://panel.example/")
    unknown = render(event, "fr", "https://panel.example/")

    assert english.subject.startswith("Server Survival crashed") and english.text.startswith("Hello Ada,")
    assert "https://panel.example/t/tn_a/servers/srv_1" in english.text
    assert german.subject.startswith("Server Survival ist abgestürzt") and german.text.startswith("Hallo,")
    assert unknown.subject == english.subject


# --- delivery ---


def test_deliver_reaches_only_members_who_can_see_the_server():
    ports, store, mailer = world()

    done = svc.deliver(ports, crashed("srv_1"))

    assert done == svc.Delivery(recipients=1, in_app=1, mailed=1)
    assert list(store.items) == ["usr_owner"]
    assert [to for to, _, _ in mailer.sent] == ["usr_owner@example.org"]


def test_deliver_twice_stores_and_mails_once():
    ports, store, mailer = world()

    svc.deliver(ports, crashed())
    again = svc.deliver(ports, crashed())

    assert again == svc.Delivery(recipients=1, in_app=0, mailed=0)
    assert store.unread["usr_owner"] == 1 and len(mailer.sent) == 1


def test_a_failed_mail_gives_its_claim_back_so_the_retry_mails():
    ports, store, mailer = world()
    mailer.fail = True

    with pytest.raises(DependencyUnavailableError):
        svc.deliver(ports, crashed())
    mailer.fail = False
    svc.deliver(ports, crashed())

    assert len(mailer.sent) == 1 and store.unread["usr_owner"] == 1


def test_an_unverified_address_gets_in_app_only():
    ports, store, mailer = world()
    store.people["usr_owner"] = Recipient("usr_owner", "usr_owner@example.org", mailable=False)

    svc.deliver(ports, crashed())

    assert store.unread["usr_owner"] == 1 and mailer.sent == []


def test_platform_events_go_to_the_platform_admins():
    ports, store, mailer = world()
    store.admins = [Recipient("usr_root", "root@example.org")]
    down = make_event(
        "node.down", dedupe_key="n1", occurred_at=T, tenant_id=None, payload={"node_id": "n1", "node_name": "fsn-1"}
    )

    svc.deliver(ports, down)

    assert list(store.items) == ["usr_root"]
    assert "/admin/nodes/n1" in mailer.sent[0][2]


def test_an_unknown_event_type_delivers_nothing():
    from mamba.domain.events import Event

    ports, store, mailer = world()

    assert svc.deliver(ports, Event("evt_x", "future.thing", T, "tn_a")) == svc.Delivery()
    assert store.items == {} and mailer.sent == []


# --- emitters (their dedupe keys repeat on a retry) ---


def test_node_health_publishes_one_node_down_and_one_recovery_with_stable_ids():
    from mamba.domain.errors import WingsUnavailableError
    from mamba.domain.nodes import Node
    from mamba.services import node_health as nh

    class Store:
        def __init__(self):
            self.health = None

        def get(self, node_id):
            return self.health

        def save(self, health):
            self.health = health

        def add_event(self, event):
            pass

    class Agent:
        down = True

        def system(self, *, probe=False, extended=False):
            if self.down:
                raise WingsUnavailableError("no answer")
            return {"version": "1.11"}

    node = Node(id="n1", uuid="u", name="fsn-1", fqdn="n.test", token_id="t" * 16, created_at="", updated_at="")
    store, agent, published = Store(), Agent(), FakeEventPublisher()
    for t in ("T1", "T2", "T3", "T4"):
        nh.probe_node(node, agent, store, t, published)
    agent.down = False
    nh.probe_node(node, agent, store, "T5", published)
    nh.probe_node(node, agent, store, "T6", published)

    assert [e.type for e in published.published] == ["node.down", "node.recovered"]
    assert published.published[0].payload == {"node_id": "n1", "node_name": "fsn-1"}
    assert published.published[0].tenant_id is None


def test_provisioning_announces_the_installed_server_once_and_a_failed_one_with_its_reason():
    from dataclasses import replace

    from mamba.domain import servers as srv
    from mamba.services import provisioning
    from tests.unit.test_services_provisioning import UUID, World

    # Given a provisioning whose install succeeded (the step retried), and one that failed
    ok, failed = World(srv.INSTALLING), World(srv.INSTALLING)
    ok.ports = replace(ok.ports, events=FakeEventPublisher())
    failed.ports = replace(failed.ports, events=FakeEventPublisher())

    provisioning.skip_start(ok.ports, ok.event())
    provisioning.skip_start(ok.ports, ok.event())
    provisioning.compensate(failed.ports, failed.event(error={"Error": "InstallFailedError", "Cause": "exit 1"}))

    # Then one id for the two publishes of server.created; install_failed names the reason
    created = ok.ports.events.of_type("server.created")
    assert len(created) == 2 and created[0].id == created[1].id
    assert created[0].server_id == UUID and created[0].tenant_id == "tn_a"
    (gone,) = failed.ports.events.of_type("server.install_failed")
    assert gone.payload["reason"] and gone.payload["server_name"]


def test_a_tenant_event_without_its_tenant_or_with_an_unknown_payload_field_is_a_bug():
    with pytest.raises(ValueError):
        make_event("backup.failed", dedupe_key="k", occurred_at=T, tenant_id=None)
    with pytest.raises(ValueError):
        make_event("backup.failed", dedupe_key="k", occurred_at=T, tenant_id="tn_a", payload={"secret": "x"})


def test_billing_publishes_one_payment_event_per_invoice_and_attempt():
    from dataclasses import replace

    from mamba.services import billing_sync as sync
    from tests.billing_support import event, invoice_object
    from tests.unit.test_services_billing_sync import World as BillingWorld

    # Given a tenant whose payment fails, then succeeds (paid and payment_succeeded both arrive)
    world = BillingWorld()
    world.subscribe("past_due")
    published = FakeEventPublisher()
    world.ports = replace(world.ports, events=published)

    failed = event("invoice.payment_failed", invoice_object("in_1", "cus_a", "sub_1"))
    sync.process(world.ports, failed)
    sync.process(world.ports, failed)  # redelivered
    world.subscribe("active")
    sync.process(world.ports, event("invoice.paid", invoice_object("in_1", "cus_a", "sub_1")))
    sync.process(world.ports, event("invoice.payment_succeeded", invoice_object("in_1", "cus_a", "sub_1")))

    # Then every repeat has the id of its first: one failure, one success to notify
    assert {e.type: e.tenant_id for e in published.published} == {"payment.failed": "tn_a", "payment.succeeded": "tn_a"}
    assert len({e.id for e in published.of_type("payment.failed")}) == 1
    assert len({e.id for e in published.of_type("payment.succeeded")}) == 1
    assert published.of_type("payment.failed")[0].payload["invoice_id"] == "in_1"


def test_a_crash_is_also_a_notification_with_the_same_id_when_the_schedule_runs_again():
    from dataclasses import replace

    from mamba.services import metrics as service
    from tests.unit.test_services_metrics import DAY0, NODE, UUIDS, seen, server, world

    ports, _, _, clock = world(DAY0)
    ports = replace(ports, publisher=FakeEventPublisher())
    clock.now = DAY0 + 3
    service.record_node(ports, NODE, [server(u) for u in UUIDS], seen(0, memory=990))
    clock.now = DAY0 + 63

    service.record_node(ports, NODE, [server(u) for u in UUIDS], seen(1, "offline"))

    published = ports.publisher.published
    assert sorted({e.type for e in published}) == ["server.crashed", "server.oom_suspected"]
    first = next(e for e in published if e.server_id == UUIDS[0] and e.type == "server.crashed")
    assert first.tenant_id == "tn_a" and first.payload == {"server_name": "s"}
    assert len({e.id for e in published}) == len(published)  # one per server and type


def test_the_mail_language_is_the_choice_then_the_panels_then_english():
    assert Preferences().language == "en"
    panel = change_preferences(Preferences(), panel_language="de")
    assert panel.language == "de" and panel.chosen_language is None
    chosen = change_preferences(panel, language="en")
    assert chosen.language == "en"
    assert change_preferences(chosen, panel_language="de").language == "en"  # the choice wins
