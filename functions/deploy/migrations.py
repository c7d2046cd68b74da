"""The ``Migrations`` custom resource's function: the data migrations run as part of the deploy
(docs/deploy.md#migrations-during-the-deploy, mamba.services.deploy_migrations)."""

from __future__ import annotations

from typing import Any

from mamba import bootstrap
from mamba.observability import logger


def handler(event: dict[str, Any], context: Any) -> None:
    from mamba.migrations.registry import load_migrations
    from mamba.migrations.runner import MigrationRunner
    from mamba.services import deploy_migrations

    def runner() -> MigrationRunner:
        return MigrationRunner(
            bootstrap.migration_ledger(), load_migrations(), log=logger.info, free_quotas=bootstrap.free_quotas()
        )

    answer = deploy_migrations.handle(event, runner, context.get_remaining_time_in_millis, logger.info)
    logger.info("migrations on deploy", extra={"request": event.get("RequestType"), "status": answer.status})
    body = deploy_migrations.response_body(event, answer, getattr(context, "log_stream_name", ""))
    bootstrap.stack_responder()(str(event["ResponseURL"]), body)
