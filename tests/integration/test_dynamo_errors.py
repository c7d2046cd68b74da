"""The DynamoDB error translation against moto: the codes and reason positions that
``translate`` reads are the ones the real calls produce (tests/unit/test_dynamo_errors.py
covers the throttling and network shapes moto cannot produce)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pynamodb.transactions import TransactWrite

from mamba import bootstrap
from mamba.adapters.dynamo.errors import SKIP, Cancellation, translate
from mamba.domain import billing as b
from mamba.domain.errors import ConflictError, NotFoundError

T0 = "2025-12-01T10:00:00Z"


@pytest.fixture
def tables(aws):
    bootstrap.dynamo_tables()


def _notice(sk: str):
    from mamba.adapters.dynamo.items import NoticeItem

    return NoticeItem("TENANT#tn_err", sk, kind="billing_notice", sent_at=T0)


def test_a_failed_put_condition_on_moto_is_the_sites_error(tables):
    from mamba.adapters.dynamo.items import NoticeItem

    _notice("NOTICE#a").save()

    with pytest.raises(ConflictError, match="already"):
        with translate(on_condition=ConflictError("The notice was sent already.")):
            _notice("NOTICE#a").save(condition=NoticeItem.pk.does_not_exist())


def test_a_missing_item_on_moto_is_the_sites_not_found(tables):
    from mamba.adapters.dynamo.items import NoticeItem

    with pytest.raises(NotFoundError):
        with translate(on_missing=NotFoundError("No notice.")):
            NoticeItem.get("TENANT#tn_err", "NOTICE#missing", consistent_read=True)


def test_transaction_reasons_follow_pynamodbs_send_order_not_the_call_order(tables):
    from mamba.adapters.dynamo.items import NoticeItem
    from mamba.adapters.dynamo.users import connection

    # Given a notice that exists (the put below fails) and one the delete's condition refuses
    _notice("NOTICE#taken").save()
    _notice("NOTICE#kept").save()

    # When a transaction puts first and deletes second, in the calls
    with translate(on_condition=SKIP) as write:
        with TransactWrite(connection=connection()) as tx:
            tx.save(_notice("NOTICE#taken"), condition=NoticeItem.pk.does_not_exist())
            tx.delete(_notice("NOTICE#kept"), condition=NoticeItem.sent_at == "another time")

    # Then the reasons list the delete first, then the put (checks, deletes, puts, updates)
    assert write.condition_failed
    assert write.cancellation == Cancellation(("ConditionalCheckFailed", "ConditionalCheckFailed"))
    with translate(on_condition=SKIP) as only_put:
        with TransactWrite(connection=connection()) as tx:
            tx.save(_notice("NOTICE#taken"), condition=NoticeItem.pk.does_not_exist())
            tx.delete(_notice("NOTICE#kept"), condition=NoticeItem.sent_at == T0)
    assert only_put.cancellation is not None and only_put.cancellation.failed_positions == frozenset({1})


def _plan(plan_id: str, price_id: str, metered: tuple[b.MeteredPrice, ...] = ()) -> b.Plan:
    return b.Plan(
        id=plan_id,
        name=plan_id,
        quotas=b.Quotas(servers=1),
        price_id=price_id,
        metered=metered,
        created_at=T0,
        updated_at=T0,
    )


def test_saving_a_stale_plan_that_gives_up_a_price_says_the_plan_changed(tables):
    # Given a plan with a metered price, changed by someone else since it was read
    repo = bootstrap.billing_repository()
    ram = b.MeteredPrice("ram_gb_hours", "price_ram", "gs_ram")
    repo.add_plan(_plan("pro", "price_pro", (ram,)))
    read = repo.get_plan("pro")
    repo.save_plan(read, replace(read, name="Pro (renamed)", updated_at="2025-12-01T11:00:00Z"))

    # When the stale copy is saved without its metered price
    with pytest.raises(ConflictError) as caught:
        repo.save_plan(read, replace(read, metered=(), updated_at="2025-12-01T12:00:00Z"))

    # Then the conflict names the plan's change (the price's delete is sent before the plan's put)
    assert caught.value.message == "The plan changed meanwhile; read it again."
    assert repo.get_plan("pro").name == "Pro (renamed)"


def test_saving_a_plan_with_another_plans_price_says_the_price_is_taken(tables):
    # Given two plans, the first with a metered price it is about to give up
    repo = bootstrap.billing_repository()
    ram = b.MeteredPrice("ram_gb_hours", "price_ram", "gs_ram")
    repo.add_plan(_plan("pro", "price_pro", (ram,)))
    repo.add_plan(_plan("max", "price_max"))
    pro = repo.get_plan("pro")

    # When the first plan drops its metered price and takes the second plan's price
    with pytest.raises(ConflictError) as caught:
        repo.save_plan(pro, replace(pro, price_id="price_max", metered=(), updated_at="2025-12-01T12:00:00Z"))

    # Then the conflict names the price, and nothing changed
    assert caught.value.message == "A price id already belongs to another plan."
    assert repo.get_plan("pro") == pro


def test_a_throttled_identity_read_is_unavailable_not_a_500(tables, monkeypatch):
    # Given DynamoDB throttles the guard's BatchGetItem
    from botocore.exceptions import ClientError

    from mamba.adapters.dynamo.identity import DynamoIdentityRepository
    from mamba.adapters.dynamo.items import MainItem
    from mamba.domain.errors import DependencyUnavailableError

    client = MainItem._get_connection().connection.client

    def throttled(**_: object) -> None:
        error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
        raise ClientError(error, "BatchGetItem")

    monkeypatch.setattr(client, "batch_get_item", throttled)
    # When the guard loads an identity, Then it is a 503 (DependencyUnavailableError), never a 500
    with pytest.raises(DependencyUnavailableError):
        DynamoIdentityRepository().load("usr_throttled", "tn_throttled")
