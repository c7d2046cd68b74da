"""SnapStart on the API function: the hooks (mamba.snapstart) and the template (infra.template).

The hooks run in a fresh interpreter, as Lambda runs them after the function's init: the
before-snapshot hook must leave the hot path imported and every route's schema built without
calling AWS, and the after-restore hook must leave nothing a restored copy would share with its
siblings (clients, pooled connections, resolved credentials, the random sequence).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from infra import template as cfn

ROOT = Path(__file__).resolve().parents[2]

_HOOKS = """
import json, random, sys
import app
from mamba import bootstrap, snapstart
from mamba.adapters import aws_clients
from mamba.adapters.dynamo.items import MainItem, UserItem
from mamba.routes import REGISTRY

report = {"registered": snapstart.register()}
report["services_before"] = sorted(m for m in sys.modules if m.startswith("mamba.services."))
report["schemas_before"] = sorted(m for m in sys.modules if m.startswith("mamba.schemas."))
report["primed"] = snapstart.before_snapshot()
report["pyopenssl"] = "urllib3.contrib.pyopenssl" in sys.modules
report["services_after"] = sorted(m for m in sys.modules if m.startswith("mamba.services."))
models = {m for s in REGISTRY for m in (s.request_model, s.response_model) if m is not None}
report["incomplete"] = sorted(m.__name__ for m in models if not m.__pydantic_complete__)
client = bootstrap.boto_client("dynamodb")
shared = MainItem._get_connection().connection.client
report["one_client"] = client is shared is UserItem._get_connection().connection.client
loader = aws_clients.session().get_component("data_loader")
state = random.getstate()
snapshot_next = random.random()
random.setstate(state)

snapstart.after_restore()

renewed = bootstrap.boto_client("dynamodb")
report["client_renewed"] = renewed is not client
report["pynamodb_follows"] = MainItem._get_connection().connection.client is renewed
report["models_kept"] = aws_clients.session().get_component("data_loader") is loader
report["random_renewed"] = random.random() != snapshot_next
report["settings_kept"] = bootstrap.settings().jwt_secret == app.bootstrap.settings().jwt_secret
print(json.dumps(report))
"""


def _run(code: str, extra_path: Path | None = None) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(
            str(p) for p in (*([extra_path] if extra_path else []), ROOT / "layers" / "core", ROOT)
        ),
        "MAMBA_ENV": "test",
        "JWT_SECRET": secrets.token_hex(32),
        "MAMBA_LOCAL_SECRETS_FILE": os.devnull,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "snap",
        "AWS_SECRET_ACCESS_KEY": "snap",
        # Nothing listens here: a hook that called AWS would fail the test.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def hooks() -> dict:
    return _run(_HOOKS)


def test_hooks_are_not_registered_when_the_runtime_has_no_snapstart(hooks: dict) -> None:
    assert hooks["registered"] is False


def test_before_snapshot_imports_every_lazily_bound_service_and_builds_every_route_schema(hooks: dict) -> None:
    # Given a fresh init: no service module yet (doors bind them lazily)
    assert hooks["services_before"] == []
    # Then after the hook: the services are in memory and no route schema is left to build
    assert "mamba.services.servers" in hooks["services_after"]
    assert hooks["primed"]["modules"] >= len(hooks["services_after"]) > 10
    assert hooks["primed"]["schemas"] > 100
    assert hooks["incomplete"] == []


def test_import_app_builds_no_route_schema_when_routes_name_their_models(hooks: dict) -> None:
    # Given a fresh init (import app): the routes name their models, so no schema module is loaded
    assert hooks["schemas_before"] == []
    # Then the before-snapshot hook built them all (the test above): nothing was lost by naming them


def test_aws_clients_load_no_pyopenssl_when_botocore_only_needs_the_stdlib_context(hooks: dict) -> None:
    # Given the hot path primed (the one DynamoDB client made, every service imported)
    # Then botocore's transport came without pyOpenSSL and cryptography (aws_clients.load_transport)
    assert hooks["pyopenssl"] is False


def test_before_snapshot_leaves_one_dynamodb_client_for_pynamodb_and_boto3(hooks: dict) -> None:
    assert hooks["one_client"] is True


def test_after_restore_renews_clients_and_random_state_when_a_copy_is_restored(hooks: dict) -> None:
    assert hooks["client_renewed"] is True
    assert hooks["pynamodb_follows"] is True
    assert hooks["random_renewed"] is True


def test_after_restore_keeps_the_model_files_and_settings_when_a_copy_is_restored(hooks: dict) -> None:
    assert hooks["models_kept"] is True
    assert hooks["settings_kept"] is True


def test_hooks_are_registered_with_the_runtime_when_it_offers_snapstart(tmp_path: Path) -> None:
    # Given Lambda's runtime module (a stand-in recording what is registered)
    (tmp_path / "snapshot_restore_py.py").write_text(
        "BEFORE, AFTER = [], []\n"
        "def register_before_snapshot(f): BEFORE.append(f.__qualname__)\n"
        "def register_after_restore(f): AFTER.append(f.__qualname__)\n"
    )
    # When the function's init imports the app
    report = _run(
        "import json, app, snapshot_restore_py as r; print(json.dumps({'before': r.BEFORE, 'after': r.AFTER}))",
        extra_path=tmp_path,
    )
    # Then each hook is registered once
    assert report == {"before": ["before_snapshot"], "after": ["after_restore"]}


def test_api_function_gets_snapstart_on_published_versions_behind_an_alias() -> None:
    resources = cfn.merge_template()["Resources"]

    props = resources[cfn.API_HANDLER]["Properties"]
    assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert props["AutoPublishAlias"] == cfn.API_ALIAS
    # API Gateway may invoke the alias (the snapshotted version), not $LATEST
    assert resources[cfn.API_PERMISSION]["Properties"]["FunctionName"] == {"Ref": "APIHandlerAliaslive"}


def test_every_api_integration_invokes_the_alias_when_the_package_is_rewritten() -> None:
    uri = (
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${APIHandler.Arn}/invocations"
    )
    packaged = {
        "Resources": {
            cfn.REST_API: {
                "Properties": {
                    "DefinitionBody": {
                        "paths": {
                            "/v1/me": {"get": {"x-amazon-apigateway-integration": {"uri": {"Fn::Sub": uri}}}},
                            "/health/live": {
                                "get": {"x-amazon-apigateway-integration": {"uri": {"Fn::Sub": uri}}},
                                "head": {"x-amazon-apigateway-integration": {"uri": {"Fn::Sub": uri}}},
                            },
                        }
                    }
                }
            }
        }
    }

    assert cfn.api_through_alias(packaged) == 3

    text = json.dumps(packaged)
    assert "${APIHandler.Arn}" not in text and text.count("${APIHandlerAliaslive}/invocations") == 3


def test_rewrite_fails_loudly_when_chalice_no_longer_writes_the_integration() -> None:
    with pytest.raises(cfn.TemplateError, match="Chalice changed"):
        cfn.api_through_alias({"Resources": {cfn.REST_API: {"Properties": {"DefinitionBody": {"paths": {}}}}}})
