"""The first-deploy check of tests/packaging/test_first_deploy.py on the packaged template: the
file ``make package`` writes and a deploy uploads (Chalice's functions, each with its stage
variables, merged with infra's resources)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.build import BuildResult
from tests.integration.test_cli_stack import STACK, deployed_stack  # noqa: F401 (a fixture, used by name)
from tests.packaging.conftest import Unpacked
from tests.packaging.test_first_deploy import deployed_settings

pytestmark = [pytest.mark.xdist_group("package"), pytest.mark.slow]


@pytest.fixture(scope="module")
def packaged(package: BuildResult) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(package.template.read_text())
    return template


def test_packaged_defaults_load_in_deployed_mode_when_nothing_is_set(aws: None, packaged: dict[str, Any]) -> None:
    # Given the packaged template with every parameter at its default and its generated secret
    # When the API function loads its settings (Globals plus its own stage variables)
    settings = deployed_settings(packaged)
    # Then they load, as a deployed function named after the stack
    assert settings.env == "deployed"
    assert settings.stage == "mamba-test"  # the stack's name, not Chalice's packaging stage
    assert settings.captcha_provider == "disabled"


def test_the_migrations_function_is_packaged_with_time_to_run_and_imports_from_the_zips(
    packaged: dict[str, Any], package: BuildResult, unpacked: Unpacked
) -> None:
    from infra import template as cfn
    from tests.packaging.test_packaging import _probe

    # Given the function the Migrations custom resource calls
    logical_id = cfn.function_logical_id(cfn.MIGRATIONS_FUNCTION)
    function = packaged["Resources"][logical_id]["Properties"]
    # Then it has Lambda's longest timeout, within the resource's ServiceTimeout
    assert function["Timeout"] == 900 < cfn.MIGRATIONS_SERVICE_TIMEOUT
    assert packaged["Resources"][cfn.MIGRATIONS]["Properties"]["ServiceToken"] == {"Fn::GetAtt": [logical_id, "Arn"]}
    # and its handler imports from the unpacked zips alone
    report = _probe(unpacked.task_root, unpacked.layer_root, str(function["Handler"]))
    assert report["imported"] and report["resolved"], report.get("error")


@pytest.fixture
def stack_source(packaged: dict[str, Any]) -> dict[str, Any]:
    return packaged


def test_check_config_runs_from_a_stack_with_the_packaged_templates_outputs(
    deployed_stack,  # noqa: F811 (the fixture imported above, by name)
    capsys,
) -> None:
    from mamba.cli import main

    # Given a stack on moto whose outputs are the packaged template's (deployed_stack, stack_source)
    # When the operator runs check-config by the stack's name
    code = main(["--stack", STACK, "check-config"])
    out, err = capsys.readouterr()
    # Then the settings load in deployed mode from those outputs alone
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["env"], shown["stage"], shown["table_main"]) == ("deployed", STACK, deployed_stack["MainTableName"])
    assert shown["secrets"]["JWT_SECRET"] == "set"
