"""One moto per test process (per xdist worker), emptied before every test that asks for it.

Starting ``mock_aws``, creating the tables, the bucket, the KMS key and the SES sender, and
letting ``bootstrap`` build fresh pynamodb connections and boto3 clients cost about a second
of CPU per test; the Step Functions deployment (twenty task Lambdas, every state machine)
another second. The world below pays that once per process and then, before each test,
puts the account back to its *baseline*: the panel's resources exist and hold nothing.

What ``fresh()`` does, service by service (measured: well under a millisecond when the
previous test left only data behind):

* DynamoDB: the panel's tables keep their definition and lose every item; any other table
  is dropped; a panel table whose definition a test changed (TTL, indexes) is re-created.
* KMS: the node-token key and its alias are kept (creating a key costs 40 ms); if a test
  disabled, deleted or added keys, KMS is reset and the key made again.
* Step Functions, Lambda, IAM: the workflows ``deploy_workflows()`` made are kept, their
  executions dropped, and they are hidden from tests that did not ask for them (the state
  machines do not exist there, as before). A test that reconfigured a task Lambda causes
  a redeployment before the next workflow test.
* Every other service (S3, SES, SQS, Secrets Manager, SSM, Scheduler, ...) is reset to
  nothing, and the backup bucket and the verified sender are made again (3 ms).

Nothing but moto's in-memory backends is touched, so a test sees exactly what a fresh
``mock_aws`` plus ``create_resources()`` gave it before. Between tests that do not use moto
the mock is paused (no boto3 or ``requests`` interception, the credentials restored), so
unit and e2e tests run outside it as they always did.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account, which role and function ARNs must name
MOTO_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    # The mock is paused and resumed around tests that do not use it; a new boto3 default session
    # at every resume would make every boto3 client again (5-100 ms each). One is made fresh when
    # the world starts instead (MotoWorld.__init__).
    "core": {
        "mock_credentials": True,
        "passthrough": {"urls": [], "services": []},
        "reset_boto3_session": False,
        "service_whitelist": None,
    },
}

# Backends whose resources outlive a test (their data is emptied instead); the workflow
# services only once the workflows are deployed.
KEPT = frozenset({"dynamodb", "kms"})
WORKFLOW_SERVICES = frozenset({"stepfunctions", "lambda", "iam"})

_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _code_zip() -> bytes:
    """moto wants code bytes; the handlers run in-process from this checkout."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "tests: handlers run in-process\n")
    return buffer.getvalue()


class MotoWorld:
    """The process's moto account. Use ``world()``; fixtures call ``fresh()`` / ``pause()``."""

    def __init__(self) -> None:
        import boto3
        from moto import mock_aws

        one_table_backup_per_transaction()
        # A default session made before moto was imported would lack moto's request hook.
        boto3.DEFAULT_SESSION = None
        self._mock = mock_aws(config=MOTO_CONFIG)
        self._active = False
        self._clients: dict[str, Any] = {}
        self._table_shapes: dict[str, Any] = {}
        self._kms_shape: Any = None
        self._lambda_shape: Any = None
        self._machines: list[list[Any]] = []  # the deployed state machines, per SFN backend
        self.workflows_deployed = False
        self.holders = 0  # open module worlds: the mock stays on between their tests

    # --- the mock itself ---

    def activate(self) -> None:
        if not self._active:
            from moto.core.models import reset_responses_mock, responses_mock

            # start() registers moto's URL callbacks again; without this they pile up on every
            # pause, and each `requests` call (the Wings simulator) scans them all.
            reset_responses_mock(responses_mock)
            self._mock.start(reset=False)
            self._active = True

    def pause(self) -> None:
        """Stop intercepting (data kept) while tests that do not use moto run."""
        if self._active:
            self._mock.stop(remove_data=False)
            self._active = False

    def client(self, service: str) -> Any:
        """One boto3 client per service for building the world (clients cost 5-100 ms each)."""
        if service not in self._clients:
            import boto3

            from mamba.config import get_settings

            self._clients[service] = boto3.client(service, region_name=get_settings().region)
        return self._clients[service]

    # --- the baseline ---

    def fresh(self, *, workflows: bool = False) -> None:
        """Empty the account back to the baseline; with ``workflows``, the state machines exist."""
        from mamba import bootstrap

        self.activate()
        if not self._table_shapes or not self._tables_intact():
            self._rebuild()
        else:
            self._empty()
        if workflows:
            self._show_workflows()
        else:
            self._hide_workflows()
        # Adapters are cheap to rebuild; the pynamodb connections and boto3 clients under them
        # are kept by mamba.adapters.dynamo.items.bind (same table) and boto3's default session.
        bootstrap.reset()

    def _rebuild(self) -> None:
        """From nothing: reset every backend and create the panel's resources."""
        from moto.core.base_backend import BackendDict

        BackendDict.reset()
        self.workflows_deployed = False
        self._create_tables()
        self._create_kms_key()
        self._create_shared()

    def _empty(self) -> None:
        from moto.core.base_backend import BackendDict

        kept = KEPT | WORKFLOW_SERVICES if self.workflows_deployed else KEPT
        for backend_dict in list(BackendDict._instances):
            if backend_dict.service_name in kept:
                continue
            for account_backend in backend_dict.values():
                account_backend.reset()
            backend_dict.clear()
            BackendDict._instances.remove(backend_dict)
        self._empty_tables()
        if self._kms() != self._kms_shape:
            self._reset_service("kms")
            self._create_kms_key()
        self._create_shared()

    def _reset_service(self, service: str) -> None:
        from moto.core.base_backend import BackendDict

        for backend_dict in list(BackendDict._instances):
            if backend_dict.service_name == service:
                for account_backend in backend_dict.values():
                    account_backend.reset()
                backend_dict.clear()
                BackendDict._instances.remove(backend_dict)

    # DynamoDB

    def _dynamodb(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        from mamba.config import get_settings

        return dynamodb_backends[ACCOUNT_ID][get_settings().region]

    @staticmethod
    def _shape(table: Any) -> Any:
        return json.dumps(
            [table.schema, table.attr, table.ttl, table.stream_specification, table.billing_mode]
            + [index.describe() for index in (*table.indexes, *table.global_indexes)],
            sort_keys=True,
            default=str,
        )

    def _table_names(self) -> dict[str, str]:
        from mamba.config import get_settings

        settings = get_settings()
        return {
            "MainTable": settings.table_main,
            "IdempotencyTable": settings.table_idempotency,
            "MetricsTable": settings.table_metrics,
        }

    def _tables_intact(self) -> bool:
        tables = self._dynamodb().tables
        return all(name in tables for name in self._table_shapes)

    def _create_tables(self) -> None:
        from mamba.adapters.dynamo.tables import TABLES

        names = self._table_names()
        dynamodb = self.client("dynamodb")
        self._table_shapes = {}
        for table in TABLES:
            name = names[table.logical_id]
            dynamodb.create_table(**table.create_table_kwargs(name))
            self._table_shapes[name] = self._shape(self._dynamodb().tables[name])

    def _empty_tables(self) -> None:
        from mamba.adapters.dynamo.tables import TABLES

        tables = self._dynamodb().tables
        for name in [name for name in tables if name not in self._table_shapes]:
            del tables[name]
        changed = [name for name, shape in self._table_shapes.items() if self._shape(tables[name]) != shape]
        for name in self._table_shapes:
            tables[name].items.clear()
        if changed:
            names = self._table_names()
            for table in TABLES:
                if names[table.logical_id] in changed:
                    del tables[names[table.logical_id]]
                    self.client("dynamodb").create_table(**table.create_table_kwargs(names[table.logical_id]))

    # KMS: the node-token key under the alias Settings names (KMS_KEY_ID)

    def _kms(self) -> Any:
        from moto.kms.models import kms_backends

        from mamba.config import get_settings

        backend = kms_backends[ACCOUNT_ID][get_settings().region]
        return sorted((key_id, key.enabled, key.key_state, sorted(key.aliases)) for key_id, key in backend.keys.items())

    def _create_kms_key(self) -> None:
        from mamba.config import get_settings

        kms = self.client("kms")
        key_id = kms.create_key(Description="mamba node tokens (test)")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=get_settings().kms_key_id, TargetKeyId=key_id)
        self._kms_shape = self._kms()

    # S3 and SES: reset with every other service, made again

    def _create_shared(self) -> None:
        from mamba.config import get_settings

        settings = get_settings()
        self.client("s3").create_bucket(Bucket=settings.backup_bucket)
        self.client("s3").create_bucket(Bucket=settings.export_bucket)
        # moto's SES refuses mail from an unverified sender, as SES does (account mail, invitations).
        self.client("ses").verify_email_identity(EmailAddress=settings.mail_from)
        # The notification events queue (EVENTS_QUEUE_URL, tests/conftest.py): the services publish to it.
        if settings.events_queue_url:
            self.client("sqs").create_queue(QueueName=settings.events_queue_url.rsplit("/", 1)[-1])

    # Step Functions: the task Lambdas and every state machine, deployed once

    def _sfn_backends(self) -> list[Any]:
        """moto keeps two Step Functions backends (the plain one and the ASL parser's)."""
        from moto.stepfunctions.models import stepfunctions_backends
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        from mamba.config import get_settings

        region = get_settings().region
        return [backends[ACCOUNT_ID][region] for backends in (stepfunctions_backends, stepfunctions_parser_backends)]

    def _lambdas(self) -> Any:
        from moto.awslambda.models import lambda_backends

        from mamba.config import get_settings

        functions = lambda_backends[ACCOUNT_ID][get_settings().region]._lambdas._functions
        return sorted(
            (name, entry["latest"].handler, entry["latest"].timeout, sorted(entry["latest"].environment_vars.items()))
            for name, entry in functions.items()
        )

    def _hide_workflows(self) -> None:
        """No state machine exists (one a previous test made is gone too)."""
        if self.workflows_deployed:
            for backend in self._sfn_backends():
                backend.state_machines = []

    def _show_workflows(self) -> None:
        """Exactly the deployed state machines exist, without executions."""
        if self.workflows_deployed and self._lambdas() != self._lambda_shape:
            for service in WORKFLOW_SERVICES:
                self._reset_service(service)
            self.workflows_deployed = False
        if not self.workflows_deployed:
            self._deploy_workflows()
            self._machines = [list(backend.state_machines) for backend in self._sfn_backends()]
            return
        for backend, machines in zip(self._sfn_backends(), self._machines, strict=True):
            backend.state_machines = list(machines)
            backend.activities = {}
            for machine in machines:
                machine.executions.clear()

    def _deploy_workflows(self) -> None:
        """Create the task Lambdas and every state machine on the (mocked) account."""
        from functions.tasks import TASKS
        from infra import workflows
        from mamba.config import get_settings

        settings = get_settings()
        role = self.client("iam").create_role(
            RoleName="mamba-test-workflows", AssumeRolePolicyDocument=json.dumps(_TRUST)
        )["Role"]["Arn"]
        code = _code_zip()
        for function_name, target in TASKS.items():
            self.client("lambda").create_function(
                FunctionName=function_name, Runtime="python3.12", Role=role, Handler=target, Code={"ZipFile": code}
            )
        values = workflows.placeholders_local(settings.region, ACCOUNT_ID, settings.table_main, settings.backup_bucket)
        for workflow in workflows.workflow_names():
            name = settings.state_machine_arn(workflow).rsplit(":", 1)[-1]
            definition = workflows.render(workflows.load(workflow), values)
            self.client("stepfunctions").create_state_machine(
                name=name, definition=json.dumps(definition), roleArn=role
            )
        self.workflows_deployed = True
        self._lambda_shape = self._lambdas()


def one_table_backup_per_transaction() -> None:
    """moto 5.2.5's TransactWriteItems deep-copies the whole table once per *item* of the
    transaction, as its rollback backup: 100 allocations on a node of 1,000 ports cost 100
    copies of the table. The copies are all taken before the first write, so they are equal:
    this takes one per table and transaction and hands it out again. The rollback is the same;
    the cost is one copy instead of one per item (the thousand-ports test: 38 s -> 2 s).
    Thread-local, as the concurrency tests run transactions from many threads."""
    import copy
    import threading
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    if getattr(models.DynamoDBBackend.transact_write_items, "one_backup_per_table", False):
        return
    local = threading.local()

    def deepcopy(value: Any, memo: Any = None) -> Any:
        backups = getattr(local, "backups", None)
        if backups is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in backups:
            backups[id(value)] = copy.deepcopy(value)
        return backups[id(value)]

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        local.backups = {}
        try:
            original(self, transact_items)
        finally:
            local.backups = None

    transact_write_items.one_backup_per_table = True  # type: ignore[attr-defined]
    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


_WORLD: list[MotoWorld] = []


def world() -> MotoWorld:
    """This process's moto world, made on first use."""
    if not _WORLD:
        _WORLD.append(MotoWorld())
    return _WORLD[0]


def pause_if_started() -> None:
    if _WORLD:
        _WORLD[0].pause()


def holders() -> int:
    """How many module worlds (``tests.support.app_on_moto``) are open in this process."""
    return _WORLD[0].holders if _WORLD else 0
