"""The Chalice app object. Registration only; logic lives in functions/ and layers/core/mamba."""

# First: on Lambda the cyclic GC waits until the first invocation has been answered (mamba/init_gc.py).
from mamba import init_gc  # noqa: I001

import importlib
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Rate

from functions import pterodactyl
from functions.api import (
    admin_application_keys,
    admin_blueprints,
    admin_fleet,
    admin_nodes,
    admin_operations,
    admin_overview,
    admin_plans,
    admin_tenants,
    admin_users,
    api_keys,
    audit,
    auth,
    backups,
    billing,
    catalog,
    docs,
    health,
    me,
    members,
    metrics,
    notifications,
    oauth,
    operations,
    passkeys,
    roles,
    schedules,
    server_control,
    server_files,
    server_lifecycle,
    servers,
    service_accounts,
    tenants,
    two_factor,
    webhooks,
)
from functions.remote import api as remote_api
from functions.tasks import TASKS
from functions.webhooks import stripe as stripe_webhook
from mamba import bootstrap, observability, snapstart, web

# Refuse to start on a missing or weak secret: a failed init is better than serving.
bootstrap.settings()

# On Lambda with SnapStart: prime the hot path before the snapshot, renew clients after each restore.
snapstart.register()

app = Chalice(app_name="mamba")
app.api.binary_types = ["application/octet-stream", "application/gzip"]
app.register_middleware(web.http_middleware, "http")
# Tasks, schedules and the queue consumer log under the workflow's correlation id (or their own
# request id), and every function is traced when MAMBA_TRACING is on (mamba/observability.py).
app.register_middleware(observability.http_tracing_middleware, "http")
app.register_middleware(observability.lambda_middleware, "pure_lambda")
app.register_middleware(observability.lambda_middleware, "scheduled")
app.register_middleware(init_gc.middleware, "all")

for blueprint in (
    remote_api.bp,
    admin_blueprints.bp,
    admin_fleet.bp,
    admin_overview.bp,
    admin_nodes.bp,
    health.bp,
    docs.bp,
    operations.bp,
    api_keys.bp,
    two_factor.bp,
    passkeys.bp,
    audit.bp,
    auth.bp,
    oauth.bp,
    me.bp,
    admin_tenants.bp,
    admin_operations.bp,
    admin_users.bp,
    members.bp,
    roles.bp,
    servers.bp,
    server_lifecycle.bp,
    tenants.bp,
    admin_plans.bp,
    billing.bp,
    stripe_webhook.bp,
    server_control.bp,
    server_files.bp,
    backups.bp,
    catalog.bp,
    metrics.bp,
    schedules.bp,
    notifications.bp,
    webhooks.bp,
    service_accounts.bp,
    admin_application_keys.bp,
    *pterodactyl.BLUEPRINTS,
):
    app.register_blueprint(blueprint)


def _task(function_name: str, target: str) -> Callable[[dict[str, Any], Any], Any]:
    """A module-level handler named after the function: Chalice builds the Lambda Handler
    string (``app.<name>``) from the Python function's name."""
    module_name, _, attr = target.partition(":")
    handler = getattr(importlib.import_module(module_name), attr)

    def task(event: dict[str, Any], context: Any) -> Any:
        return handler(event, context)

    task.__name__ = task.__qualname__ = function_name
    return task


for _name, _target in TASKS.items():
    globals()[_name] = app.lambda_function(name=_name)(_task(_name, _target))


@app.schedule(Rate(1, unit=Rate.MINUTES), name="node_health")
def node_health(event: Any) -> Any:
    """Probe every node's /api/system (functions/schedules/node_health.py); locally run by
    local/scheduler.py, since moto never fires EventBridge."""
    from functions.schedules import node_health as job

    return job.handler(event.to_dict(), event.context)


@app.schedule(Rate(15, unit=Rate.MINUTES), name="billing_dunning")
def billing_dunning(event: Any) -> Any:
    """Mail tenants whose grace period ends soon and suspend those whose grace period is
    over (functions/schedules/billing_dunning.py)."""
    from functions.schedules import billing_dunning as job

    return job.handler(event.to_dict(), event.context)


@app.schedule(Rate(1, unit=Rate.HOURS), name="billing_metering")
def billing_metering(event: Any) -> Any:
    """Meter the previous hour's usage and send it to Stripe (functions/schedules/billing_metering.py)."""
    from functions.schedules import billing_metering as job

    return job.handler(event.to_dict(), event.context)


@app.lambda_function(name="stripe_events")
def stripe_events(event: dict[str, Any], context: Any) -> Any:
    """The Stripe events queue consumer (functions/queues/stripe_events.py); its SQS event
    source mapping, with ReportBatchItemFailures, is in infra/template.py."""
    from functions.queues import stripe_events as job

    return job.handler(event, context)


@app.lambda_function(name="notification_events")
def notification_events(event: dict[str, Any], context: Any) -> Any:
    """The notification events queue consumer (functions/queues/events.py): in-app, email and
    the tenant's webhooks; its SQS event source mapping, with ReportBatchItemFailures, is in
    infra/template.py."""
    from functions.queues import events as job

    return job.handler(event, context)


@app.lambda_function(name="migrate_on_deploy")
def migrate_on_deploy(event: dict[str, Any], context: Any) -> Any:
    """The data migrations as part of the deploy: the stack's ``Migrations`` custom resource
    (functions/deploy/migrations.py, infra/template.py)."""
    from functions.deploy import migrations as job

    return job.handler(event, context)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="reconcile_servers")
def reconcile_servers(event: Any) -> Any:
    """Read every node's server list and store each server's state and utilization
    (functions/schedules/reconcile.py); locally run by local/scheduler.py."""
    from functions.schedules import reconcile as job

    return job.handler(event.to_dict(), event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="webhook_deliveries")
def webhook_deliveries(event: Any) -> Any:
    """POST the due webhook deliveries and retry the failed ones (functions/schedules/webhook_deliveries.py);
    locally run by local/scheduler.py."""
    from functions.schedules import webhook_deliveries as job

    return job.handler(event.to_dict(), event.context)


@app.schedule(Rate(6, unit=Rate.HOURS), name="backup_usage")
def backup_usage(event: Any) -> Any:
    """Check every tenant's backup storage counter against S3 (functions/schedules/backup_usage.py)."""
    from functions.schedules import backup_usage as job

    return job.handler(event.to_dict(), event.context)


@app.lambda_function(name="schedule_trigger")
def schedule_trigger(event: dict[str, Any], context: Any) -> Any:
    """The target of every schedule's EventBridge Scheduler schedule: start the run
    (functions/schedules/schedule_trigger.py); locally invoked by local/scheduler.py's timer."""
    from functions.schedules import schedule_trigger as job

    return job.handler(event, context)
