"""Migrations, the ledger, the local seed and the accounts persistence, on moto."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from mamba import cli
from mamba.adapters.dynamo import keys
from mamba.adapters.dynamo.identity import DynamoIdentityRepository
from mamba.adapters.dynamo.items import LedgerItem, MembershipItem, TenantItem, UserItem
from mamba.auth.passwords import Argon2idPasswords, Argon2Params
from mamba.domain.errors import ConflictError, NotFoundError, UnauthorizedError, ValidationError
from mamba.domain.permissions import BUILTIN_ROLES
from mamba.migrations.registry import load_migrations
from mamba.migrations.runner import (
    Lease,
    LedgerState,
    MigrationConflictError,
    MigrationContext,
    MigrationError,
    MigrationLockedError,
    MigrationRunner,
)
from mamba.services import accounts

FAST = Argon2idPasswords(Argon2Params(time_cost=1, memory_cost=8, parallelism=1))
PASSWORD = "a perfectly long pass phrase"


@pytest.fixture
def dynamo(aws):
    from mamba import bootstrap

    bootstrap.dynamo_tables()


@pytest.fixture
def ledger(dynamo):
    from mamba.adapters.dynamo.migrations import DynamoMigrationLedger

    return DynamoMigrationLedger()


@pytest.fixture
def users(dynamo):
    from mamba.adapters.dynamo.users import DynamoUserRepository

    return DynamoUserRepository()


@pytest.fixture
def tenants(dynamo):
    from mamba.adapters.dynamo.tenants import DynamoTenantRepository

    return DynamoTenantRepository()


@dataclass
class Recorded:
    """A migration that records each run in a shared journal (and can be told to fail)."""

    version: str
    journal: list[str]
    description: str = "test migration"
    fail_on: set[str] = field(default_factory=set)

    def up(self, ctx: MigrationContext) -> None:
        self.journal.append(f"up {self.version}")
        if "up" in self.fail_on:
            raise RuntimeError("boom")

    def down(self, ctx: MigrationContext) -> None:
        self.journal.append(f"down {self.version}")


def three(journal: list[str]) -> list[Recorded]:
    return [Recorded("0001", journal), Recorded("0002", journal), Recorded("0003", journal)]


def stored_ledger() -> LedgerItem:
    return LedgerItem.get(*keys.MIGRATION_LEDGER, consistent_read=True)


# -- the real migrations -------------------------------------------------------------------


def test_registry_finds_every_version_module_in_order_when_loaded():
    found = load_migrations()
    versions = [m.version for m in found]
    assert versions[0] == "0001"
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert all(m.description for m in found)


def test_migrate_up_applies_0001_and_records_it_when_the_table_is_new(dynamo, tenants):
    # When
    applied = cli.migrate_up()
    # Then the ledger records it, with a time and no lease left behind
    assert applied == [m.version for m in load_migrations()]
    item = stored_ledger()
    assert list(item.applied) == applied
    assert set(item.applied_at.attribute_values) == set(applied)
    assert item.lock_owner is None and item.lock_expires_at is None
    # And the role catalogue can be listed, equal to the code's built-in roles
    assert tenants.builtin_roles() == dict(BUILTIN_ROLES)


def test_migrate_up_is_a_no_op_when_run_again(dynamo):
    # Given everything applied
    cli.migrate_up()
    before = stored_ledger().serialize()
    # When it runs again
    again = cli.migrate_up()
    # Then nothing runs and the ledger is untouched
    assert again == []
    assert stored_ledger().serialize() == before


def test_migrate_down_removes_the_roles_and_up_restores_them_when_rolled_back_and_forward(dynamo, tenants):
    # Given everything applied
    every = cli.migrate_up()
    # When all of it is rolled back
    rolled = cli.migrate_down(len(every))
    # Then newest first, the catalogue is gone and the ledger is empty
    assert rolled == list(reversed(every))
    assert tenants.builtin_roles() == {}
    assert list(stored_ledger().applied) == []
    # And forward again over the existing, empty ledger
    assert cli.migrate_up() == every
    assert tenants.builtin_roles() == dict(BUILTIN_ROLES)


def test_status_lists_each_migration_as_applied_or_pending(dynamo):
    assert all(not row.applied for row in cli.migration_runner().status())
    cli.migrate_up()
    rows = cli.migration_runner().status()
    assert rows and all(row.applied and row.applied_at for row in rows)


# -- the runner over the real ledger, with recorded migrations -----------------------------


def test_up_runs_pending_in_order_and_down_n_rolls_back_newest_first(ledger):
    journal: list[str] = []
    runner = MigrationRunner(ledger, three(journal))
    # When
    assert runner.up() == ["0001", "0002", "0003"]
    assert runner.down(2) == ["0003", "0002"]
    # Then
    assert journal == ["up 0001", "up 0002", "up 0003", "down 0003", "down 0002"]
    item = stored_ledger()
    assert list(item.applied) == ["0001"]
    assert set(item.applied_at.attribute_values) == {"0001"}
    # And only the rolled-back ones run forward again
    assert runner.up() == ["0002", "0003"]


def test_down_refuses_when_asked_for_more_than_are_applied(ledger):
    journal: list[str] = []
    runner = MigrationRunner(ledger, three(journal))
    runner.up()
    with pytest.raises(MigrationError):
        runner.down(4)
    assert runner.down(0) == []
    assert list(stored_ledger().applied) == ["0001", "0002", "0003"]
    assert journal == ["up 0001", "up 0002", "up 0003"]


def test_up_refuses_when_a_pending_migration_is_older_than_an_applied_one(ledger):
    journal: list[str] = []
    MigrationRunner(ledger, [Recorded("0002", journal)]).up()
    with pytest.raises(MigrationError) as caught:
        MigrationRunner(ledger, [Recorded("0001", journal), Recorded("0002", journal)]).up()
    assert caught.value.details["out_of_order"] == ["0001"]
    assert journal == ["up 0002"]


def test_up_refuses_when_the_ledger_has_versions_the_code_does_not(ledger):
    journal: list[str] = []
    MigrationRunner(ledger, three(journal)).up()
    with pytest.raises(MigrationError):
        MigrationRunner(ledger, three(journal)[:2]).up()


def test_a_failing_migration_leaves_no_lease_and_is_not_recorded(ledger):
    # Given 0002 fails
    journal: list[str] = []
    steps = three(journal)
    steps[1].fail_on.add("up")
    # When
    with pytest.raises(RuntimeError):
        MigrationRunner(ledger, steps).up()
    # Then 0001 is recorded, 0002 is not, and the lease is gone so the next run retries at once
    item = stored_ledger()
    assert list(item.applied) == ["0001"]
    assert item.lock_owner is None
    steps[1].fail_on.clear()
    assert MigrationRunner(ledger, steps).up() == ["0002", "0003"]


# -- concurrency: the ledger moves under a runner ------------------------------------------


class StaleLedger:
    """The real ledger, except that ``read`` returns what another runner saw earlier."""

    def __init__(self, real, stale: LedgerState) -> None:
        self.real = real
        self.stale = stale

    def read(self) -> LedgerState:
        return self.stale

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_claim_fails_and_nothing_runs_twice_when_another_runner_applied_first_on_a_new_table(ledger):
    # Given runner A read the (absent) ledger, then runner B applied everything
    journal: list[str] = []
    seen_by_a = ledger.read()
    assert seen_by_a == LedgerState()
    MigrationRunner(ledger, three(journal), owner="B").up()
    # When A goes on from what it read
    with pytest.raises(MigrationConflictError):
        MigrationRunner(StaleLedger(ledger, seen_by_a), three(journal), owner="A").up()
    # Then each migration ran exactly once and the ledger is B's
    assert journal == ["up 0001", "up 0002", "up 0003"]
    assert list(stored_ledger().applied) == ["0001", "0002", "0003"]
    assert stored_ledger().lock_owner is None


def test_claim_fails_when_the_applied_list_changed_since_it_was_read(ledger):
    # Given both runners saw ["0001"], and B then applied 0002 and 0003
    journal: list[str] = []
    MigrationRunner(ledger, three(journal)[:1], owner="B").up()
    seen_by_a = ledger.read()
    MigrationRunner(ledger, three(journal), owner="B").up()
    # When A tries to apply 0002 from its stale view
    with pytest.raises(MigrationConflictError):
        MigrationRunner(StaleLedger(ledger, seen_by_a), three(journal), owner="A").up()
    # Then 0002 ran once
    assert journal.count("up 0002") == 1


def test_a_live_lease_blocks_another_runner_and_unlock_clears_it(ledger):
    # Given runner B holds a live lease (it is running, or died a moment ago)
    journal: list[str] = []
    now = int(datetime.now(UTC).timestamp())
    ledger.claim(LedgerState(), Lease("B", "0001", "up", now + 600), now)
    runner = MigrationRunner(ledger, three(journal), owner="A")
    # When / Then
    with pytest.raises(MigrationLockedError) as caught:
        runner.up()
    assert caught.value.details["owner"] == "B"
    with pytest.raises(MigrationLockedError):
        runner.down(0)
    assert journal == []
    # And unlock clears it, after which A can run
    assert runner.unlock().owner == "B"
    assert runner.up() == ["0001", "0002", "0003"]


def test_an_expired_lease_is_taken_over_when_its_runner_died(ledger):
    journal: list[str] = []
    now = int(datetime.now(UTC).timestamp())
    ledger.claim(LedgerState(), Lease("dead", "0001", "up", now - 1), now - 901)
    assert MigrationRunner(ledger, three(journal), owner="A").up() == ["0001", "0002", "0003"]


def test_record_fails_when_the_lease_was_stolen_while_running(ledger):
    # Given a migration during which another runner forces the lease away and claims it
    journal: list[str] = []

    @dataclass
    class Stolen(Recorded):
        def up(self, ctx: MigrationContext) -> None:
            super().up(ctx)
            ledger.force_unlock()
            now = int(datetime.now(UTC).timestamp())
            ledger.claim(ledger.read(), Lease("thief", self.version, "up", now + 600), now)

    # When
    with pytest.raises(MigrationConflictError):
        MigrationRunner(ledger, [Stolen("0001", journal)], owner="A").up()
    # Then A did not record over the thief's lease
    item = stored_ledger()
    assert list(item.applied) == []
    assert item.lock_owner == "thief"


# -- accounts -------------------------------------------------------------------------------


def test_create_user_fails_with_conflict_when_the_email_is_taken_in_any_case(users):
    # Given
    first = accounts.create_user(users, FAST, "Someone@Example.com", PASSWORD)
    # When / Then
    with pytest.raises(ConflictError) as caught:
        accounts.create_user(users, FAST, "someone@example.COM", PASSWORD + "!")
    assert caught.value.details == {"field": "email"}
    # And exactly one account exists
    assert [u.user_id for u in UserItem.gsi1.query(keys.ALL_USERS)] == [first.id]
    assert users.find_by_email("SOMEONE@example.com").id == first.id


def test_create_user_refuses_a_weak_password_or_bad_email_before_writing(users):
    with pytest.raises(ValidationError):
        accounts.create_user(users, FAST, "someone@example.com", "short")
    with pytest.raises(ValidationError):
        accounts.create_user(users, FAST, "someone@example.com", "password1234")  # in the common list
    with pytest.raises(ValidationError):
        accounts.create_user(users, FAST, "not-an-email", PASSWORD)
    assert users.find_by_email("someone@example.com") is None


def test_create_admin_creates_a_verified_admin_when_the_email_is_new(users):
    result = accounts.create_admin(users, FAST, "ops@example.com", PASSWORD)
    stored = users.get(result.user.id)
    assert result.created and stored.is_admin and stored.email_verified and stored.status == "active"
    assert FAST.verify(stored.password_hash, PASSWORD)


def test_create_admin_promotes_an_existing_user_only_with_the_right_password(users):
    # Given an ordinary account
    user = accounts.create_user(users, FAST, "member@example.com", PASSWORD)
    # When the password is wrong: refused, not promoted
    with pytest.raises(UnauthorizedError):
        accounts.create_admin(users, FAST, "member@example.com", "a different long password")
    assert users.get(user.id).is_admin is False
    # When it is right: promoted, and a second call changes nothing
    assert accounts.create_admin(users, FAST, "member@example.com", PASSWORD).promoted
    assert users.get(user.id).is_admin is True
    again = accounts.create_admin(users, FAST, "member@example.com", PASSWORD)
    assert not again.created and not again.promoted


def test_create_admin_rehashes_when_the_stored_hash_uses_old_parameters(users):
    user = accounts.create_user(users, FAST, "old@example.com", PASSWORD)
    current = Argon2idPasswords(Argon2Params(time_cost=1, memory_cost=16, parallelism=1))
    accounts.create_admin(users, current, "old@example.com", PASSWORD)
    assert current.needs_rehash(users.get(user.id).password_hash) is False


def test_create_tenant_writes_the_tenant_and_the_owner_membership_together(users, tenants):
    owner = accounts.create_user(users, FAST, "owner@example.com", PASSWORD)
    tenant = accounts.create_tenant(tenants, "Acme", owner.id)
    # The guard's read sees the owner
    facts = DynamoIdentityRepository().load(owner.id, tenant.id)
    user, member = facts.user, facts.membership
    assert user is not None and user.status == "active"
    assert member is not None and member.role == "owner"
    # The user's tenants are listed from gsi1
    assert [(m.tenant_id, m.role) for m in tenants.memberships_of_user(owner.id)] == [(tenant.id, "owner")]
    stored = MembershipItem.get(*keys.membership(tenant.id, owner.id))
    assert (stored.gsi1pk, stored.gsi1sk) == (keys.memberships_of_user(owner.id), f"TENANT#{tenant.id}")


def test_create_tenant_writes_nothing_when_the_owner_does_not_exist(tenants):
    with pytest.raises(NotFoundError):
        accounts.create_tenant(tenants, "Ghost", "usr_missing", tenant_id="tn_ghost")
    with pytest.raises(NotFoundError):
        tenants.get("tn_ghost")
    assert tenants.membership("tn_ghost", "usr_missing") is None


def test_create_tenant_fails_with_conflict_when_the_id_exists(users, tenants):
    owner = accounts.create_user(users, FAST, "owner@example.com", PASSWORD)
    accounts.create_tenant(tenants, "One", owner.id, tenant_id="tn_fixed")
    with pytest.raises(ConflictError):
        accounts.create_tenant(tenants, "Two", owner.id, tenant_id="tn_fixed")
    assert tenants.get("tn_fixed").name == "One"


# -- the local seed -------------------------------------------------------------------------


def seed_settings(**update):
    """The test Settings with the seed's inputs as given (none set unless named)."""
    from mamba import bootstrap

    return bootstrap.settings().model_copy(update={"seed_admin_email": None, "seed_admin_password": None, **update})


def test_seed_creates_the_admin_and_demo_tenant_once_when_run_twice(dynamo, users, tenants, tmp_path):
    # When
    first = cli.seed(settings=seed_settings(), local_dir=tmp_path, hasher=FAST)
    second = cli.seed(settings=seed_settings(), local_dir=tmp_path, hasher=FAST)
    # Then the first run created both, with a generated password kept in a private file
    assert first.created == ("admin", "tenant")
    assert first.admin_email == "admin@mamba.local" and first.password_source == "generated"
    assert stat.S_IMODE((tmp_path / "admin.txt").stat().st_mode) == 0o600
    assert f"password={first.admin_password}" in (tmp_path / "admin.txt").read_text()
    # And the second created nothing and reports the same login
    assert second.created == ()
    assert second.admin_password == first.admin_password
    admin = users.find_by_email("admin@mamba.local")
    assert admin.is_admin and FAST.verify(admin.password_hash, first.admin_password)
    assert [u.email for u in UserItem.gsi1.query(keys.ALL_USERS)] == ["admin@mamba.local"]
    assert [t.tenant_id for t in TenantItem.gsi1.query(keys.ALL_TENANTS)] == ["tn_demo"]
    assert [(m.tenant_id, m.role) for m in tenants.memberships_of_user(admin.id)] == [("tn_demo", "owner")]
    assert tenants.get("tn_demo").name == "Demo"


def test_seed_honours_mamba_admin_email_and_password(dynamo, users, tmp_path):
    settings = seed_settings(seed_admin_email="Boss@Example.com", seed_admin_password=PASSWORD)
    result = cli.seed(settings=settings, local_dir=tmp_path, hasher=FAST)
    assert (result.admin_email, result.password_source) == ("boss@example.com", "MAMBA_ADMIN_PASSWORD")
    assert FAST.verify(users.find_by_email("boss@example.com").password_hash, PASSWORD)
    assert not (tmp_path / "admin.txt").exists()


def test_seed_refuses_a_weak_admin_password_naming_the_variable(dynamo, users, tmp_path):
    with pytest.raises(ValidationError) as caught:
        cli.seed(settings=seed_settings(seed_admin_password="admin"), local_dir=tmp_path, hasher=FAST)
    assert caught.value.details == {"field": "MAMBA_ADMIN_PASSWORD"}
    assert users.find_by_email("admin@mamba.local") is None


def test_seed_refuses_to_run_when_deployed(dynamo, users, tmp_path):
    from mamba.migrations.seed import SeedRefusedError

    with pytest.raises(SeedRefusedError):
        cli.seed(settings=seed_settings(env="deployed"), local_dir=tmp_path, hasher=FAST)
    assert users.find_by_email("admin@mamba.local") is None
    assert not (tmp_path / "admin.txt").exists()
