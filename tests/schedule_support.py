"""Helpers for the schedule tests on moto: the scheduler's settings (a group, the trigger function
and the role, as infra sets them), the group created in moto's EventBridge Scheduler, and a
tenant with a server (tests/backup_support.py's world)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3

GROUP = "mamba-schedules"
TARGET_ARN = "arn:aws:lambda:us-east-1:123456789012:function:schedule_trigger"
ROLE_ARN = "arn:aws:iam::123456789012:role/mamba-scheduler"

NIGHTLY = {
    "name": "Nightly restart",
    "cron": {"minute": "0", "hour": "4", "day_of_month": "*", "month": "*", "day_of_week": "*"},
    "timezone": "Europe/Berlin",
    "enabled": True,
    "only_when_online": False,
    "tasks": [{"action": "command", "payload": "say hi", "time_offset_seconds": 0, "continue_on_failure": False}],
}


def scheduler() -> Any:
    return boto3.client("scheduler", region_name="us-east-1")


@contextlib.contextmanager
def scheduler_configured(**extra: Any) -> Iterator[None]:
    """While the block runs, Settings name the scheduler's group, target and role, and the group exists."""
    from mamba import bootstrap

    with contextlib.suppress(Exception):
        scheduler().create_schedule_group(Name=GROUP)
    changed = bootstrap.settings().model_copy(
        update={"schedule_group": GROUP, "schedule_target_arn": TARGET_ARN, "scheduler_role_arn": ROLE_ARN, **extra}
    )
    with bootstrap.override(settings=changed):
        yield


def eventbridge_schedules() -> dict[str, dict[str, Any]]:
    """What EventBridge Scheduler holds in the panel's group, by name, with each target's input parsed."""
    found: dict[str, dict[str, Any]] = {}
    for summary in scheduler().list_schedules(GroupName=GROUP).get("Schedules", []):
        held = scheduler().get_schedule(Name=summary["Name"], GroupName=GROUP)
        held["Target"]["Input"] = json.loads(held["Target"]["Input"])
        found[summary["Name"]] = held
    return found
