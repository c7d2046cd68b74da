"""Readiness probes against the real backing services."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


class AwsHealthProbes:
    def __init__(self, *, dynamodb: Any, s3: Any, sfn: Any, table: str, bucket: str, state_machine_arn: str) -> None:
        self._dynamodb = dynamodb
        self._s3 = s3
        self._sfn = sfn
        self._table = table
        self._bucket = bucket
        self._state_machine_arn = state_machine_arn

    def _run(self, call: Any) -> str:
        try:
            call()
        except (ClientError, BotoCoreError) as exc:
            return f"error: {type(exc).__name__}"
        return "ok"

    def check(self) -> dict[str, str]:
        return {
            "dynamodb": self._run(lambda: self._dynamodb.describe_table(TableName=self._table)),
            "s3": self._run(lambda: self._s3.head_bucket(Bucket=self._bucket)),
            "stepfunctions": self._run(
                lambda: self._sfn.describe_state_machine(stateMachineArn=self._state_machine_arn)
            ),
        }
