"""Every ASL file passes statelint and asl-validator, and renders with both placeholder sets:
the local stack's (real strings) and infra's (``DefinitionSubstitutions`` in the template)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.tasks import TASKS, placeholder
from infra import template as cfn
from infra import validate, workflows
from mamba.adapters.dynamo.tables import TABLES

WORKFLOWS = workflows.workflow_names()


def _cfn_substituted(values: dict[str, Any]) -> dict[str, str]:
    """What CloudFormation substitutes for each ``DefinitionSubstitutions`` value."""
    resolved = {}
    for name, value in values.items():
        if "Fn::GetAtt" in value:
            logical_id = value["Fn::GetAtt"][0]
            resolved[name] = f"arn:aws:lambda:eu-west-1:210987654321:function:mamba-prod-{logical_id}-AbC123"
        else:
            resolved[name] = f"mamba-prod-{value['Ref']}-XyZ789".lower()
    return resolved


def test_there_is_at_least_one_workflow() -> None:
    assert "check_platform" in WORKFLOWS


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_asl_passes_statelint_and_asl_validator(workflow: str) -> None:
    problems = validate.validate([workflow])
    assert problems == [], "\n".join(str(p) for p in problems)


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_asl_renders_with_the_local_placeholders(workflow: str) -> None:
    values = workflows.placeholders_local("us-east-1", "123456789012", "mamba-main", "mamba-backups")
    rendered = workflows.render(workflows.load(workflow), values)
    assert workflows.placeholders_in(rendered) == set()
    assert validate.run_statelint(workflow, rendered, rendered) == []


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_asl_renders_with_the_cfn_substitutions(workflow: str) -> None:
    # Given the state machine resource infra generates
    resource = cfn.state_machine(workflow)[cfn.workflow_logical_id(workflow)]["Properties"]
    substitutions = resource.get("DefinitionSubstitutions", {})
    # Then it substitutes exactly the placeholders the ASL uses, each from a resource in the stack
    assert set(substitutions) == workflows.placeholders_in(resource["Definition"])
    task_ids = set(cfn.task_logical_ids().values())
    for value in substitutions.values():
        target = value["Fn::GetAtt"][0] if "Fn::GetAtt" in value else value["Ref"]
        assert target in task_ids | {t.logical_id for t in TABLES} | {cfn.BUCKET}
    # And what CloudFormation renders is valid ASL, ARN checks included
    rendered = workflows.render(resource["Definition"], _cfn_substituted(substitutions))
    assert validate.run_statelint(workflow, rendered, rendered) == []
    assert validate.run_asl_validator({workflow: rendered}) == []


def test_every_task_function_has_a_placeholder_both_sides_fill() -> None:
    fillable = validate.fillable_placeholders()
    assert {placeholder(fn) for fn in TASKS} <= fillable
    assert {"MainTableName", "BackupBucketName"} <= fillable


def _broken() -> dict[str, Any]:
    definition = workflows.load("check_platform")
    definition["States"]["MarkProbed"]["Next"] = "NoSuchState"
    definition["States"]["ProbeEach"]["MaxConcurrency"] = "${Concurrency}"
    return definition


def test_validation_names_the_file_and_the_problem_when_the_asl_is_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a statemachines folder with a broken file
    (tmp_path / "break_things.asl.json").write_text(json.dumps(_broken()))
    monkeypatch.setattr(workflows, "STATEMACHINES", tmp_path)

    # When `python -m infra.validate` runs
    exit_code = validate.main([])

    # Then it fails, naming the file, the unfillable placeholder, the number field and the dangling Next
    err = capsys.readouterr().err
    assert exit_code == 1
    assert "statemachines/break_things.asl.json" in err
    assert "${Concurrency}" in err
    assert "MaxConcurrency must be a number" in err
    assert 'No state found named "NoSuchState"' in err


def test_asl_validator_reports_what_statelint_may_not_when_the_schema_is_wrong() -> None:
    definition = workflows.render(workflows.load("check_platform"), validate.dummy_placeholders())
    definition["States"]["MarkChecking"]["Type"] = "Taskk"
    problems = validate.run_asl_validator({"check_platform": definition})
    assert len(problems) == 1
    assert problems[0].check == "asl-validator"
    assert "check_platform.asl.json (rendered)" in problems[0].message
