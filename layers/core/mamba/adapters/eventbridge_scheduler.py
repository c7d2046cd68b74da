"""EventBridge Scheduler: the schedules that start a panel schedule's runs (docs/schedules.md).

Each panel schedule has one EventBridge schedule (two when its cron restricts both the day of
month and the day of week: ``mamba.domain.schedules.aws_expressions``), named
``<schedule id>-<n>`` in the panel's schedule group, carrying the time zone, disabled while the
panel schedule is disabled or paused. Its target is the ``schedule_trigger`` function, invoked
with the schedule's ids and ``<aws.scheduler.scheduled-time>``, from which the run's id is
derived (EventBridge delivers at least once).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mamba.domain import schedules as sch
from mamba.domain.errors import DependencyUnavailableError

# The most EventBridge schedules one panel schedule needs (the day-of-month and day-of-week halves).
MAX_PARTS = 2
# A run more than 5 minutes late is not what the user scheduled: EventBridge drops it then.
MAX_EVENT_AGE_SECONDS = 300
RETRY_ATTEMPTS = 5
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


def part_name(schedule_id: str, index: int) -> str:
    return f"{schedule_id}-{index}"


def target_input(schedule: sch.Schedule) -> str:
    """The trigger function's event: the ids it needs and the scheduled time, filled in by EventBridge."""
    return json.dumps(
        {
            "tenant_id": schedule.tenant_id,
            "server_id": schedule.server_id,
            "schedule_id": schedule.id,
            "scheduled_time": SCHEDULED_TIME,
        },
        sort_keys=True,
    )


class EventBridgeScheduleTrigger:
    def __init__(self, client: Any, group: str, target_arn: str, role_arn: str) -> None:
        self._client = client
        self._group = group
        self._target_arn = target_arn
        self._role_arn = role_arn

    def _code(self, exc: ClientError) -> str:
        return str(exc.response.get("Error", {}).get("Code", ""))

    def put(self, schedule: sch.Schedule) -> None:
        """Create or update the schedule's EventBridge schedules; delete a part it no longer needs."""
        expressions = sch.aws_expressions(schedule.cron)
        try:
            for index, expression in enumerate(expressions):
                request = {
                    "Name": part_name(schedule.id, index),
                    "GroupName": self._group,
                    "ScheduleExpression": expression,
                    "ScheduleExpressionTimezone": schedule.timezone,
                    "State": "ENABLED" if schedule.active else "DISABLED",
                    "FlexibleTimeWindow": {"Mode": "OFF"},
                    "Description": f"mamba schedule {schedule.id} of server {schedule.server_id}"[:512],
                    "Target": {
                        "Arn": self._target_arn,
                        "RoleArn": self._role_arn,
                        "Input": target_input(schedule),
                        "RetryPolicy": {
                            "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
                            "MaximumRetryAttempts": RETRY_ATTEMPTS,
                        },
                    },
                }
                try:
                    self._client.update_schedule(**request)
                except ClientError as exc:
                    if self._code(exc) != "ResourceNotFoundException":
                        raise
                    self._client.create_schedule(**request)
            for index in range(len(expressions), MAX_PARTS):
                self._delete_part(schedule.id, index)
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailableError(
                "The schedule could not be registered with the scheduler; try again.", {"schedule_id": schedule.id}
            ) from exc

    def delete(self, schedule_id: str) -> None:
        """Delete every part; a part that does not exist is already deleted."""
        try:
            for index in range(MAX_PARTS):
                self._delete_part(schedule_id, index)
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailableError(
                "The schedule could not be removed from the scheduler; try again.", {"schedule_id": schedule_id}
            ) from exc

    def _delete_part(self, schedule_id: str, index: int) -> None:
        try:
            self._client.delete_schedule(Name=part_name(schedule_id, index), GroupName=self._group)
        except ClientError as exc:
            if self._code(exc) != "ResourceNotFoundException":
                raise
