"""The deployed panel's configuration, read back from its CloudFormation stack (``mamba --stack``).

The stack publishes every variable of its functions' environment as an output named
``Env<Variable>`` (``infra.template.environment_outputs``): ``TABLE_MAIN`` is ``EnvTableMain``,
``KMS_KEY_ID`` is ``EnvKmsKeyId``. ``stack_environment`` turns a stack's outputs back into
those variables, so the CLI runs a command with exactly the configuration the functions run
with, and an operator types nothing but the stack's name (docs/deploy.md, docs/operations.md).

Only the standard library at import: the CLI imports this module for its option, and boto3
is imported when a stack is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

OUTPUT_PREFIX = "Env"
# Outputs are alphanumeric; the variables are upper snake case of letters and digits.
_VARIABLE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
# Stack states whose outputs describe the resources the functions use now.
USABLE_STATES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}
)


class StackError(Exception):
    """The stack cannot be read, or is not a Mamba panel stack; the message says why."""


def output_name(variable: str) -> str:
    """``TABLE_MAIN`` -> ``EnvTableMain``."""
    if not _VARIABLE.match(variable):
        raise ValueError(f"{variable!r} is not an upper snake case variable name")
    return OUTPUT_PREFIX + "".join(part[:1] + part[1:].lower() for part in variable.split("_"))


def variable_name(output: str) -> str | None:
    """``EnvTableMain`` -> ``TABLE_MAIN``; None for an output that carries no variable."""
    if not output.startswith(OUTPUT_PREFIX) or len(output) == len(OUTPUT_PREFIX):
        return None
    words = re.findall(r"[A-Z][a-z0-9]*", output[len(OUTPUT_PREFIX) :])
    if "".join(words) != output[len(OUTPUT_PREFIX) :]:
        return None
    return "_".join(word.upper() for word in words)


def environment_from_outputs(outputs: Mapping[str, str]) -> dict[str, str]:
    """The variables the outputs carry; an empty value (an unset optional parameter) is left out,
    so Settings applies its default exactly as in the functions."""
    found: dict[str, str] = {}
    for key, value in outputs.items():
        variable = variable_name(key)
        if variable is not None and value != "":
            found[variable] = value
    return found


def describe_outputs(stack: str, region: str | None = None, client: Any = None) -> tuple[dict[str, str], str]:
    """The stack's outputs and its region. Raises StackError when the stack is missing, not in
    a usable state, or not a panel stack."""
    if client is None:
        import boto3

        client = boto3.client("cloudformation", region_name=region) if region else boto3.client("cloudformation")
    from botocore.exceptions import BotoCoreError, ClientError

    where = client.meta.region_name
    try:
        stacks = client.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            raise StackError(f"no stack named {stack!r} in {where}") from exc
        raise StackError(f"cannot read the stack {stack!r}: {exc}") from exc
    except BotoCoreError as exc:
        raise StackError(f"cannot read the stack {stack!r}: {exc}") from exc
    if not stacks:
        raise StackError(f"no stack named {stack!r} in {where}")
    status = stacks[0].get("StackStatus", "")
    if status not in USABLE_STATES:
        raise StackError(f"the stack {stack!r} is {status}; wait for the deploy to finish (or roll it back)")
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stacks[0].get("Outputs", [])}
    return outputs, where


def stack_environment(stack: str, region: str | None = None, client: Any = None) -> dict[str, str]:
    """The deployed-mode environment of ``stack``'s functions, plus its region."""
    outputs, where = describe_outputs(stack, region, client)
    environment = environment_from_outputs(outputs)
    if "MAMBA_SECRETS_ID" not in environment or environment.get("MAMBA_ENV") != "deployed":
        raise StackError(
            f"the stack {stack!r} has no Env* outputs of a Mamba panel; deploy this release's template first"
        )
    environment["AWS_REGION"] = where
    environment["AWS_DEFAULT_REGION"] = where
    return environment
