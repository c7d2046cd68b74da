"""One typed Settings, parsed once. No other module reads ``os.environ``.

Where secrets come from depends on ``MAMBA_ENV``:

* ``deployed`` (the default, so a Lambda with no configuration refuses to start): the
  secrets are read through Powertools parameters, from the Secrets Manager secret named
  by ``MAMBA_SECRETS_ID`` (a JSON object) and/or the SSM path ``MAMBA_SSM_PATH``
  (SecureString parameters named after the variables).
* ``local`` and ``test``: from the environment, then from the git-ignored file named by
  ``MAMBA_LOCAL_SECRETS_FILE`` (``make run`` generates ``.local/secrets.env``).

``get_settings()`` raises ``ConfigError`` naming the variable when a required secret is
missing, shorter than 32 bytes, or a known default. ``app.py`` calls it at import, so a
misconfigured function fails its init instead of serving.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mamba.domain.errors import ConfigError

Env = Literal["local", "test", "deployed"]

MIN_SECRET_BYTES = 32

# Values that ship in examples and tutorials. A secret containing one of them is a
# placeholder someone forgot to replace, however long it has been padded.
KNOWN_DEFAULTS = (
    "your-secret-key",
    "yoursecretkey",
    "your_secret_key",
    "changeme",
    "change-me",
    "change_me",
    "replace-me",
    "replaceme",
    "secretkey",
    "supersecret",
    "mysecret",
    "password",
    "default",
    "example",
    "xxxxxxxx",
    "00000000",
    "12345678",
    "insecure",
    "dummy",
)

SECRET_NAMES = ("JWT_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    env: Env = "deployed"
    stage: str = "dev"
    region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    tracing_enabled: bool = False

    table_main: str = "mamba-main"
    table_idempotency: str = "mamba-idempotency"
    backup_bucket: str = "mamba-backups"
    state_machine_prefix: str = "arn:aws:states:us-east-1:123456789012:stateMachine:mamba-"
    mail_from: str = "no-reply@mamba.local"

    billing_enabled: bool = False

    jwt_secret: str = Field(repr=False)
    stripe_secret_key: str | None = Field(default=None, repr=False)
    stripe_webhook_secrets: tuple[str, ...] = Field(default=(), repr=False)

    def state_machine_arn(self, workflow: str) -> str:
        return f"{self.state_machine_prefix}{workflow}"

    def secret_values(self) -> tuple[str, ...]:
        """Every secret value, for the log redaction filter."""
        values = [self.jwt_secret, self.stripe_secret_key or "", *self.stripe_webhook_secrets]
        return tuple(v for v in values if v)


def check_secret(name: str, value: str | None) -> str:
    """Return ``value`` if it is usable as a secret, else raise ConfigError naming ``name``."""
    if value is None or not value.strip():
        raise ConfigError(f"{name} is required but not set")
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"{name} is too short: at least {MIN_SECRET_BYTES} bytes are required")
    lowered = value.lower()
    if any(default in lowered for default in KNOWN_DEFAULTS):
        raise ConfigError(f"{name} is a known default value; generate a random secret")
    if len(set(value)) < 8:
        raise ConfigError(f"{name} has too little variety to be a secret; generate a random one")
    return value


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def _deployed_secrets(environ: dict[str, str]) -> dict[str, str]:
    """Fetch secrets through Powertools parameters (imported only in deployed mode)."""
    secrets_id = environ.get("MAMBA_SECRETS_ID")
    ssm_path = environ.get("MAMBA_SSM_PATH")
    if not secrets_id and not ssm_path:
        raise ConfigError("MAMBA_SECRETS_ID (or MAMBA_SSM_PATH) is required in deployed mode")
    from aws_lambda_powertools.utilities import parameters

    found: dict[str, str] = {}
    if ssm_path:
        by_path = parameters.get_parameters(ssm_path, decrypt=True, max_age=300)
        found.update({k.rsplit("/", 1)[-1]: str(v) for k, v in by_path.items()})
    if secrets_id:
        document = parameters.get_secret(secrets_id, transform="json", max_age=300)
        if not isinstance(document, dict):
            raise ConfigError("MAMBA_SECRETS_ID must name a secret holding a JSON object")
        found.update({k: str(v) for k, v in document.items()})
    return found


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Parse and validate the whole configuration. Raises ConfigError naming the variable."""
    env_map = dict(os.environ if environ is None else environ)
    mode = env_map.get("MAMBA_ENV", "deployed")
    if mode not in ("local", "test", "deployed"):
        raise ConfigError(f"MAMBA_ENV must be local, test or deployed, not {mode!r}")

    if mode == "deployed":
        secrets = _deployed_secrets(env_map)
    else:
        secrets = _read_env_file(Path(env_map.get("MAMBA_LOCAL_SECRETS_FILE", ".local/secrets.env")))
        secrets.update({k: env_map[k] for k in SECRET_NAMES if env_map.get(k)})

    billing = _truthy(env_map.get("BILLING_ENABLED"))
    jwt_secret = check_secret("JWT_SECRET", secrets.get("JWT_SECRET"))
    stripe_key = secrets.get("STRIPE_SECRET_KEY") or None
    webhook_secrets: tuple[str, ...] = ()
    if billing:
        stripe_key = check_secret("STRIPE_SECRET_KEY", stripe_key)
        raw = secrets.get("STRIPE_WEBHOOK_SECRET", "")
        # Several comma-separated secrets are accepted so an endpoint secret can be rolled.
        webhook_secrets = tuple(
            check_secret("STRIPE_WEBHOOK_SECRET", part.strip()) for part in (raw.split(",") if raw else [None])
        )

    try:
        return Settings(
            env=mode,  # type: ignore[arg-type]
            stage=env_map.get("MAMBA_STAGE", "dev"),
            region=env_map.get("AWS_REGION") or env_map.get("AWS_DEFAULT_REGION") or "us-east-1",
            aws_endpoint_url=env_map.get("AWS_ENDPOINT_URL") or None,
            public_url=env_map.get("MAMBA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            log_level=env_map.get("LOG_LEVEL", "INFO"),
            tracing_enabled=_truthy(env_map.get("MAMBA_TRACING")),
            table_main=env_map.get("TABLE_MAIN", "mamba-main"),
            table_idempotency=env_map.get("TABLE_IDEMPOTENCY", "mamba-idempotency"),
            backup_bucket=env_map.get("BACKUP_BUCKET", "mamba-backups"),
            state_machine_prefix=env_map.get(
                "STATE_MACHINE_PREFIX", "arn:aws:states:us-east-1:123456789012:stateMachine:mamba-"
            ),
            mail_from=env_map.get("MAIL_FROM", "no-reply@mamba.local"),
            billing_enabled=billing,
            jwt_secret=jwt_secret,
            stripe_secret_key=stripe_key,
            stripe_webhook_secrets=webhook_secrets,
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(f"invalid configuration: {exc}") from exc


@functools.cache
def get_settings() -> Settings:
    """The process-wide Settings, parsed on first use."""
    return load_settings()


def describe(settings: Settings) -> str:
    """A printable summary with every secret masked."""
    data = settings.model_dump(exclude={"jwt_secret", "stripe_secret_key", "stripe_webhook_secrets"})
    data["secrets"] = {
        "JWT_SECRET": "set",
        "STRIPE_SECRET_KEY": "set" if settings.stripe_secret_key else "unset",
        "STRIPE_WEBHOOK_SECRET": f"{len(settings.stripe_webhook_secrets)} set",
    }
    return json.dumps(data, indent=2, sort_keys=True)
