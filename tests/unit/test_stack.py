"""mamba.stack: a stack's outputs back into the functions' variables (``mamba --stack``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from mamba.stack import StackError, output_name, stack_environment, variable_name


class FakeCloudFormation:
    def __init__(self, status: str, outputs: dict[str, str]) -> None:
        self.meta = SimpleNamespace(region_name="eu-west-1")
        self._stack = {
            "StackStatus": status,
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
        }

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        return {"Stacks": [self._stack]}


PANEL = {"EnvMambaEnv": "deployed", "EnvMambaSecretsId": "arn:secret", "EnvTableMain": "t", "EnvMailFrom": ""}


@pytest.mark.parametrize(
    ("variable", "output"),
    [
        ("TABLE_MAIN", "EnvTableMain"),
        ("STRIPE_EVENTS_DLQ_URL", "EnvStripeEventsDlqUrl"),
        ("S3_BUCKET", "EnvS3Bucket"),
        ("MAMBA_PUBLIC_URL", "EnvMambaPublicUrl"),
    ],
)
def test_a_variable_and_its_output_name_map_both_ways(variable: str, output: str) -> None:
    assert output_name(variable) == output
    assert variable_name(output) == variable


def test_outputs_that_carry_no_variable_are_not_read_as_one() -> None:
    assert variable_name("SecretsArn") is None
    assert variable_name("Env") is None
    assert variable_name("Envy") is None


def test_the_environment_is_the_stacks_with_its_region_and_without_empty_values() -> None:
    env = stack_environment("mamba-prod", client=FakeCloudFormation("UPDATE_COMPLETE", PANEL))
    assert env == {
        "MAMBA_ENV": "deployed",
        "MAMBA_SECRETS_ID": "arn:secret",
        "TABLE_MAIN": "t",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }


@pytest.mark.parametrize("status", ["UPDATE_IN_PROGRESS", "ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED"])
def test_a_stack_mid_deploy_or_broken_is_refused_naming_its_status(status: str) -> None:
    with pytest.raises(StackError, match=status):
        stack_environment("mamba-prod", client=FakeCloudFormation(status, PANEL))
