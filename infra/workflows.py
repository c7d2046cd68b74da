"""ASL files and their placeholders: the same names for infra and the local stack.

Every ``statemachines/<verb_noun>.asl.json`` is one workflow. ``${Name}`` placeholders are
filled from ``placeholders_*``: a task Lambda's placeholder comes from
``functions.tasks.placeholder`` (``task_operations`` → ``${TaskOperationsArn}``), and
``${MainTableName}`` / ``${BackupBucketName}`` name the resources for SDK integrations.

``load`` also hands the execution's ``correlation_id`` (the id of the API request that started
it, see ``mamba.adapters.sfn``) to every task Lambda: each Task state that invokes one of
``TASKS`` with ``Parameters`` (or a ``lambda:invoke`` ``Payload``) gets
``"correlation_id.$": "$$.Execution.Input.correlation_id"``. Done here, once, instead of in
each ASL file, so no task can be written without it; the task's log lines and the
``X-Request-Id`` of its Wings calls then carry the request's id (mamba.observability).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from functions.tasks import TASKS, placeholder

ROOT = Path(__file__).resolve().parent.parent
STATEMACHINES = ROOT / "statemachines"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def workflow_names() -> list[str]:
    return sorted(p.name.removesuffix(".asl.json") for p in STATEMACHINES.glob("*.asl.json"))


CORRELATION_PARAMETER = "correlation_id.$"
CORRELATION_PATH = "$$.Execution.Input.correlation_id"
_TASK_RESOURCES = {f"${{{placeholder(fn)}}}" for fn in TASKS}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((STATEMACHINES / f"{name}.asl.json").read_text())
    with_correlation(data)
    return data


def with_correlation(definition: dict[str, Any]) -> dict[str, Any]:
    """Add the correlation id to the parameters of every task Lambda call, in place (nested
    Map and Parallel states included); a state that names it itself is left as written."""
    for state in definition.get("States", {}).values():
        for branch in state.get("Branches", []):
            with_correlation(branch)
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                with_correlation(state[key])
        if state.get("Type") != "Task":
            continue
        params = state.get("Parameters")
        resource = str(state.get("Resource", ""))
        if resource.startswith("arn:aws:states:::lambda:invoke") and isinstance(params, dict):
            if params.get("FunctionName") in _TASK_RESOURCES:
                params = params.get("Payload")
            else:
                params = None
        elif resource not in _TASK_RESOURCES:
            params = None
        if isinstance(params, dict) and "correlation_id" not in params and CORRELATION_PARAMETER not in params:
            params[CORRELATION_PARAMETER] = CORRELATION_PATH
    return definition


def placeholders_in(definition: dict[str, Any]) -> set[str]:
    return set(_PLACEHOLDER.findall(json.dumps(definition)))


def render(definition: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """Substitute every placeholder; an unknown one is an error, never left in place."""
    text = json.dumps(definition)
    missing = set(_PLACEHOLDER.findall(text)) - set(values)
    if missing:
        raise KeyError(f"no value for placeholders {sorted(missing)}")
    rendered: dict[str, Any] = json.loads(_PLACEHOLDER.sub(lambda m: values[m.group(1)], text))
    return rendered


def placeholders_local(region: str, account: str, table: str, bucket: str) -> dict[str, str]:
    values = {placeholder(fn): f"arn:aws:lambda:{region}:{account}:function:{fn}" for fn in TASKS}
    values["MainTableName"] = table
    values["BackupBucketName"] = bucket
    return values


def placeholders_cfn(function_logical_ids: dict[str, str]) -> dict[str, Any]:
    """``DefinitionSubstitutions`` for the template: GetAtt of each task function."""
    values: dict[str, Any] = {placeholder(fn): {"Fn::GetAtt": [function_logical_ids[fn], "Arn"]} for fn in TASKS}
    values["MainTableName"] = {"Ref": "MainTable"}
    values["BackupBucketName"] = {"Ref": "BackupBucket"}
    return values
