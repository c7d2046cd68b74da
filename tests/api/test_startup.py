"""The panel refuses to start on a missing or weak secret, and says which one.

Deployed mode reads secrets through Powertools parameters from Secrets Manager and SSM,
here on moto; the subprocess tests run ``import app`` exactly as a Lambda init would.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from mamba.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
STRONG = secrets.token_urlsafe(48)
STRIPE_KEY = "sk_test_" + secrets.token_urlsafe(40)
WEBHOOK = "whsec_" + secrets.token_urlsafe(32)
# Parametrized values must be identical in every xdist worker, so they are fixed.
RANDOM_HEX = "9f2c4e7a1b3d5f608e1a2c3b4d5e6f70"
REGION = "us-east-1"


def _deployed(**env: str) -> dict[str, str]:
    return {"MAMBA_ENV": "deployed", "AWS_REGION": REGION, "CAPTCHA_PROVIDER": "disabled", **env}


@pytest.fixture
def secret_store() -> Iterator[None]:
    with mock_aws():
        yield


def _put_secret(name: str, value: dict | str) -> None:
    body = value if isinstance(value, str) else json.dumps(value)
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name=name, SecretString=body)


def _put_parameters(path: str, **values: str) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    for name, value in values.items():
        ssm.put_parameter(Name=f"{path}/{name}", Value=value, Type="SecureString")


def test_deployed_reads_secrets_from_secrets_manager(secret_store):
    _put_secret("mamba/prod", {"JWT_SECRET": STRONG, "STRIPE_SECRET_KEY": STRIPE_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK})

    settings = load_settings(_deployed(MAMBA_SECRETS_ID="mamba/prod", BILLING_ENABLED="true"))

    assert settings.env == "deployed"
    assert (settings.jwt_secret, settings.stripe_secret_key, settings.stripe_webhook_secrets) == (
        STRONG,
        STRIPE_KEY,
        (WEBHOOK,),
    )


def test_deployed_reads_secrets_from_ssm_path(secret_store):
    _put_parameters("/mamba/prod", JWT_SECRET=STRONG)

    settings = load_settings(_deployed(MAMBA_SSM_PATH="/mamba/prod"))

    assert settings.jwt_secret == STRONG
    assert settings.billing_enabled is False and settings.stripe_secret_key is None


def test_secrets_manager_wins_over_ssm_when_both_hold_a_value(secret_store):
    other = secrets.token_urlsafe(48)
    _put_parameters("/mamba/prod", JWT_SECRET=other)
    _put_secret("mamba/prod", {"JWT_SECRET": STRONG})

    settings = load_settings(_deployed(MAMBA_SSM_PATH="/mamba/prod", MAMBA_SECRETS_ID="mamba/prod"))

    assert settings.jwt_secret == STRONG


def test_deployed_ignores_secrets_in_the_environment(secret_store):
    _put_secret("mamba/prod", {"OTHER": "x"})

    with pytest.raises(ConfigError, match="JWT_SECRET is required"):
        load_settings(_deployed(MAMBA_SECRETS_ID="mamba/prod", JWT_SECRET=STRONG))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "JWT_SECRET is required"),
        ({"JWT_SECRET": "too-short"}, "JWT_SECRET is too short"),
        ({"JWT_SECRET": "your-secret-key-" + RANDOM_HEX}, "JWT_SECRET is a known default"),
        ({"JWT_SECRET": "changeme" * 4}, "JWT_SECRET is a known default"),
        ({"JWT_SECRET": STRONG, "STRIPE_SECRET_KEY": "sk_test_x"}, "STRIPE_SECRET_KEY is too short"),
    ],
)
def test_deployed_refuses_weak_secret_from_secrets_manager(secret_store, document, message):
    _put_secret("mamba/prod", document)

    with pytest.raises(ConfigError, match=message):
        load_settings(_deployed(MAMBA_SECRETS_ID="mamba/prod", BILLING_ENABLED="true"))


@pytest.mark.parametrize(
    ("value", "message"),
    [("short", "JWT_SECRET is too short"), ("CHANGE-ME-" + RANDOM_HEX, "JWT_SECRET is a known default")],
)
def test_deployed_refuses_weak_secret_from_ssm(secret_store, value, message):
    _put_parameters("/mamba/prod", JWT_SECRET=value)

    with pytest.raises(ConfigError, match=message):
        load_settings(_deployed(MAMBA_SSM_PATH="/mamba/prod"))


def test_deployed_names_the_source_when_the_secret_does_not_exist(secret_store):
    with pytest.raises(ConfigError, match="MAMBA_SECRETS_ID"):
        load_settings(_deployed(MAMBA_SECRETS_ID="mamba/missing"))


@pytest.mark.parametrize("body", ["not json", '["a list"]'])
def test_deployed_names_the_source_when_the_secret_is_not_a_json_object(secret_store, body):
    _put_secret("mamba/prod", body)

    with pytest.raises(ConfigError, match="MAMBA_SECRETS_ID"):
        load_settings(_deployed(MAMBA_SECRETS_ID="mamba/prod"))


def test_deployed_names_jwt_secret_when_the_ssm_path_is_empty(secret_store):
    with pytest.raises(ConfigError, match="JWT_SECRET is required"):
        load_settings(_deployed(MAMBA_SSM_PATH="/mamba/empty"))


# --- a Lambda init, for real: `import app` in a fresh interpreter -------------------------


def _import_app(**env: str) -> subprocess.CompletedProcess[str]:
    # PYDANTIC_DISABLE_PLUGINS too: this process set it when it imported mamba.config, and the
    # probe checks that importing the app sets it before pydantic builds its first model.
    dropped = ("JWT_SECRET", "MAMBA_LOCAL_SECRETS_FILE", "PYDANTIC_DISABLE_PLUGINS")
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean.update(
        PYTHONPATH=f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT}",
        MAMBA_ENV="deployed",
        CAPTCHA_PROVIDER="disabled",
        **env,
    )
    probe = (
        "import sys, app; "
        "print('loaded', 'stripe' in sys.modules, 'aws_xray_sdk' in sys.modules, "
        "any(m == 'jwt' or m.startswith('pynamodb') for m in sys.modules), "
        "getattr(sys.modules['pydantic.plugin._loader'], '_plugins', None) is None)"
    )
    return subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _seed_secret(endpoint: str, name: str, document: dict) -> None:
    client = boto3.client("secretsmanager", region_name=REGION, endpoint_url=endpoint)
    client.create_secret(Name=name, SecretString=json.dumps(document))


def test_import_app_exits_non_zero_naming_jwt_secret_when_no_secret_is_configured():
    result = _import_app()

    assert result.returncode != 0
    assert "ConfigError" in result.stderr and "JWT_SECRET" in result.stderr
    assert "loaded" not in result.stdout


@pytest.mark.parametrize(
    ("name", "document"),
    [
        ("mamba/weak", {"JWT_SECRET": "your-secret-key"}),
        ("mamba/padded", {"JWT_SECRET": "changeme-" + "0123456789abcdef" * 2}),
        ("mamba/absent", {"SOMETHING_ELSE": STRONG}),
    ],
)
def test_import_app_exits_non_zero_naming_jwt_secret_when_the_deployed_secret_is_weak(moto_server, name, document):
    _seed_secret(moto_server, name, document)

    result = _import_app(MAMBA_SECRETS_ID=name, AWS_ENDPOINT_URL=moto_server)

    assert result.returncode != 0, result.stdout
    assert "JWT_SECRET" in result.stderr
    assert STRONG not in result.stderr


def test_import_app_starts_without_heavy_modules_when_the_deployed_secret_is_strong(moto_server):
    _seed_secret(moto_server, "mamba/strong", {"JWT_SECRET": STRONG})

    result = _import_app(MAMBA_SECRETS_ID="mamba/strong", AWS_ENDPOINT_URL=moto_server)

    assert result.returncode == 0, result.stderr
    # stripe, the X-Ray SDK (Tracer is opt-in), PyJWT and pynamodb stay off the import path,
    # and pydantic never scanned the installed distributions for plugins (mamba.config said none;
    # tests/unit/test_pydantic_plugins.py checks that the scanner is not even imported)
    assert result.stdout.split() == ["loaded", "False", "False", "False", "True"]
