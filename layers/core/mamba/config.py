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
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from mamba import pydantic_plugins
from mamba.domain.errors import ConfigError

# The panel uses no pydantic plugins. Without this, building the first model (``Settings``
# below, which every door reaches through bootstrap before any schema) scans every installed
# distribution's entry points for plugins: about 10 ms of every cold start, and importing the
# scanner 16 ms more (docs/performance.md). Done here, before this module defines a model (no
# import above builds one), because this is the one module that touches the environment; an
# operator who does want a plugin sets PYDANTIC_DISABLE_PLUGINS themselves.
pydantic_plugins.disable(os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__"))

Env = Literal["local", "test", "deployed"]

MIN_SECRET_BYTES = 32

# Values that ship in examples and tutorials, compared after lower-casing and dropping
# everything but letters and digits, so "Your-Secret-Key", "your_secret_key" and
# "CHANGE ME" all match. A secret containing one is a placeholder someone forgot to
# replace, however long it has been padded.
KNOWN_DEFAULTS = (
    "yoursecretkey",
    "changeme",
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

SECRET_NAMES = ("JWT_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "CAPTCHA_SECRET_KEY")

# Sign-in with an identity provider (docs/oauth.md): a provider is offered when its client id is
# set; its client secret is then required, from the same secret sources as the others.
OAUTH_PROVIDERS = ("google", "microsoft", "github", "discord")
OAUTH_SECRET_NAMES = tuple(f"OAUTH_{p.upper()}_CLIENT_SECRET" for p in OAUTH_PROVIDERS)
MIN_CLIENT_SECRET_CHARS = 16  # issued by the provider (GitHub's are 40 hex digits), not chosen by us

# The local stack's folder (secrets, mail, stack.json, the seeded admin's password), relative to
# the working directory unless MAMBA_LOCAL_DIR says otherwise.
DEFAULT_LOCAL_DIR = ".local"


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseModel):
    """Every setting with its type. Fields declared ``repr=False`` are secrets: they never
    appear in ``repr``, ``describe()`` or the logs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: Env = "deployed"
    stage: str = Field(default="dev", min_length=1)
    region: str = Field(default="us-east-1", min_length=1)
    aws_endpoint_url: str | None = None
    public_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://")
    log_level: LogLevel = "INFO"
    tracing_enabled: bool = False

    table_main: str = Field(default="mamba-main", min_length=3)
    table_idempotency: str = Field(default="mamba-idempotency", min_length=3)
    table_metrics: str = Field(default="mamba-metrics", min_length=3)
    backup_bucket: str = Field(default="mamba-backups", min_length=3)
    # Tenant export archives (POST /v1/admin/tenants/{id}/export): their own bucket, whose
    # objects expire after 7 days, apart from the backup bucket (which never holds a body the panel wrote).
    export_bucket: str = Field(default="mamba-exports", min_length=3)
    state_machine_prefix: str = Field(
        default="arn:aws:states:us-east-1:123456789012:stateMachine:mamba-", pattern=r"^arn:aws[\w-]*:states:"
    )
    mail_from: str = Field(default="no-reply@mamba.local", pattern=r"^[^@\s]+@[^@\s]+$")
    # Encrypts node tokens (the HMAC key of every Wings JWT); a key id, ARN or alias.
    kms_key_id: str = Field(default="alias/mamba-node-tokens", min_length=1)

    billing_enabled: bool = False
    # Billing (docs/billing.md). The Stripe base address is set only locally (the local Stripe in
    # local/stripe_standin.py); production talks to api.stripe.com.
    stripe_api_base: str | None = Field(default=None, pattern=r"^https?://")
    stripe_events_queue_url: str | None = None
    # Notification events (docs/notifications.md): emitted by the services, fanned out to
    # in-app, email and webhooks by the queue's consumer.
    events_queue_url: str | None = None
    # Its dead-letter queue: the admin lists and redrives it (docs/operations.md).
    stripe_events_dlq_url: str | None = None
    billing_retention_days: int = Field(default=30, ge=1, le=365)
    billing_return_url: str | None = Field(default=None, pattern=r"^https?://")

    # Reinstall (docs/server-lifecycle.md): how long the workflow waits for Wings' install
    # callback (a task token: no polling) before it gives up with INSTALL_TIMEOUT.
    reinstall_timeout_seconds: int = Field(default=600, ge=1)
    # Backups (docs/backups.md): the S3 multipart part size Wings uploads (S3 needs at least
    # 5 MiB per part but the last), and how long the backup workflow waits for Wings' completion
    # callback (a task token: no polling) before aborting the upload.
    backup_part_size_bytes: int = Field(default=5 * 1024**3, ge=5 * 1024**2, le=5 * 1024**3)
    backup_timeout_seconds: int = Field(default=3 * 3600, ge=1)

    # Accounts (docs/accounts.md). The argon2id defaults equal mamba.auth.passwords.PARAMS
    # (a unit test keeps them equal); changing one makes every login re-hash its password.
    argon2_time_cost: int = Field(default=2, ge=1, le=20)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8 * 1024, le=1024 * 1024)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)
    refresh_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=3600)
    rate_login_account: int = Field(default=5, ge=1)  # failed logins per email per window
    rate_login_ip: int = Field(default=20, ge=1)  # failed logins per IP per window
    rate_login_window_seconds: int = Field(default=15 * 60, ge=1)
    lockout_after: int = Field(default=10, ge=1)  # consecutive failures that lock an account
    lockout_seconds: int = Field(default=30 * 60, ge=1)
    # A platform admin who is not a member of a tenant may sign in to its servers' SFTP
    # (docs/server-control.md). Off: staff reach a tenant's files only as invited members.
    sftp_admin_access: bool = False
    rate_register_ip: int = Field(default=20, ge=1)  # per hour
    rate_forgot_ip: int = Field(default=10, ge=1)  # per hour
    rate_forgot_email: int = Field(default=5, ge=1)  # per hour, also bounds mail to one inbox
    rate_verify_ip: int = Field(default=30, ge=1)  # per hour
    # Mail a signed-in caller can make the panel send (docs/accounts.md, docs/tenancy.md): per hour.
    rate_email_change_account: int = Field(default=5, ge=1)  # email-change links per account
    rate_invite_account: int = Field(default=20, ge=1)  # invitations sent by one account
    rate_invite_tenant: int = Field(default=50, ge=1)  # invitations sent from one tenant
    rate_invite_email: int = Field(default=5, ge=1)  # invitations to one address, across tenants
    # Tenants (docs/tenancy.md): each brings free-plan quotas, so an account's are capped.
    max_tenants_per_account: int = Field(default=3, ge=1)  # tenants an account may create
    rate_tenant_create: int = Field(default=10, ge=1)  # POST /v1/tenants per account per hour
    captcha_provider: Literal["turnstile", "hcaptcha", "disabled"] = "disabled"
    # Quotas of a tenant without a plan (docs/servers.md); billing writes a plan's own on the tenant.
    # A negative value means unlimited.
    free_plan_servers: int = Field(default=2, ge=-1)
    free_plan_memory_mb: int = Field(default=4096, ge=-1)
    free_plan_disk_mb: int = Field(default=20480, ge=-1)
    free_plan_backup_bytes: int = Field(default=5 * 1024**3, ge=-1)
    free_plan_backups_per_server: int = Field(default=2, ge=-1)
    free_plan_schedules_per_server: int = Field(default=10, ge=-1)
    # The plan of a personal tenant the Pterodactyl application API creates for a server's user
    # (docs/pterodactyl-api.md); "free" is the free plan, anything else a plan id billing stores.
    pterodactyl_tenant_plan: str = Field(default="free", pattern=r"^[a-z0-9_-]{1,64}$")
    # Schedules (docs/schedules.md): EventBridge Scheduler's group, the function its schedules
    # invoke and the role they invoke it with (infra sets all three; unset, a schedule cannot be
    # saved), and how often a run looks at the backup a backup task started.
    schedule_group: str | None = Field(default=None, pattern=r"^[0-9a-zA-Z._-]{1,64}$")
    schedule_target_arn: str | None = Field(default=None, pattern=r"^arn:aws[\w-]*:lambda:")
    scheduler_role_arn: str | None = Field(default=None, pattern=r"^arn:aws[\w-]*:iam::")
    schedule_backup_poll_seconds: int = Field(default=15, ge=1, le=300)
    # provision_server: how long Wings may take to install, how often the workflow looks
    # (Wait seconds, an integer as Step Functions requires) and how long one look watches
    # the panel's record before handing back to the Wait (sub-second reaction to the callback).
    provision_install_timeout_seconds: int = Field(default=900, ge=1)
    provision_start_timeout_seconds: int = Field(default=120, ge=1)
    provision_poll_seconds: int = Field(default=1, ge=0, le=60)
    provision_watch_seconds: float = Field(default=5.0, ge=0, le=60)
    captcha_verify_url: str | None = Field(default=None, pattern=r"^https?://")

    # Inputs of `mamba seed` (the local demo admin), not configuration of the running panel;
    # the seed refuses to run deployed. The folder also holds the local stack's mail and secrets.
    local_dir: str = Field(default=DEFAULT_LOCAL_DIR, min_length=1)
    seed_admin_email: str | None = None
    seed_admin_password: str | None = Field(default=None, repr=False)

    # Sign-in with an identity provider (docs/oauth.md). The endpoints are the providers' own;
    # they are settings only so that the local stand-in (local/identity_provider.py) can take their place.
    oauth_google_client_id: str | None = None
    oauth_microsoft_client_id: str | None = None
    oauth_github_client_id: str | None = None
    oauth_discord_client_id: str | None = None
    oauth_google_discovery_url: str = Field(
        default="https://accounts.google.com/.well-known/openid-configuration", pattern=r"^https?://"
    )
    oauth_microsoft_discovery_url: str = Field(
        default="https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
        pattern=r"^https?://",
    )
    oauth_github_url: str = Field(default="https://github.com", pattern=r"^https?://")
    oauth_github_api_url: str = Field(default="https://api.github.com", pattern=r"^https?://")
    oauth_discord_url: str = Field(default="https://discord.com", pattern=r"^https?://")
    oauth_discord_api_url: str = Field(default="https://discord.com/api/v10", pattern=r"^https?://")
    oauth_client_secrets: dict[str, str] = Field(default_factory=dict, repr=False)

    jwt_secret: str = Field(repr=False)
    stripe_secret_key: str | None = Field(default=None, repr=False)
    stripe_webhook_secrets: tuple[str, ...] = Field(default=(), repr=False)
    captcha_secret_key: str | None = Field(default=None, repr=False)

    def oauth_clients(self) -> dict[str, tuple[str, str]]:
        """The offered providers: provider → (client id, client secret)."""
        ids = {
            "google": self.oauth_google_client_id,
            "microsoft": self.oauth_microsoft_client_id,
            "github": self.oauth_github_client_id,
            "discord": self.oauth_discord_client_id,
        }
        return {
            p: (cid, self.oauth_client_secrets[p]) for p, cid in ids.items() if cid and p in self.oauth_client_secrets
        }

    def state_machine_arn(self, workflow: str) -> str:
        return f"{self.state_machine_prefix}{workflow}"

    @property
    def stripe_livemode(self) -> bool:
        """Live keys take live events only; test keys test events only."""
        return (self.stripe_secret_key or "").startswith(("sk_live_", "rk_live_"))

    def secret_values(self) -> tuple[str, ...]:
        """Every secret value, for the log redaction filter."""
        values = [
            self.jwt_secret,
            self.stripe_secret_key or "",
            *self.stripe_webhook_secrets,
            self.captcha_secret_key or "",
            self.seed_admin_password or "",
            *self.oauth_client_secrets.values(),
        ]
        return tuple(v for v in values if v)


SECRET_FIELDS = frozenset(name for name, info in Settings.model_fields.items() if not info.repr)

# The environment variable behind each plain field (secrets are handled by load_settings).
VARIABLES: dict[str, str] = {
    "env": "MAMBA_ENV",
    "stage": "MAMBA_STAGE",
    "region": "AWS_REGION",
    "aws_endpoint_url": "AWS_ENDPOINT_URL",
    "public_url": "MAMBA_PUBLIC_URL",
    "log_level": "LOG_LEVEL",
    "tracing_enabled": "MAMBA_TRACING",
    "table_main": "TABLE_MAIN",
    "table_idempotency": "TABLE_IDEMPOTENCY",
    "table_metrics": "TABLE_METRICS",
    "backup_bucket": "BACKUP_BUCKET",
    "export_bucket": "EXPORT_BUCKET",
    "state_machine_prefix": "STATE_MACHINE_PREFIX",
    "mail_from": "MAIL_FROM",
    "kms_key_id": "KMS_KEY_ID",
    "billing_enabled": "BILLING_ENABLED",
    "stripe_api_base": "STRIPE_API_BASE",
    "stripe_events_queue_url": "STRIPE_EVENTS_QUEUE_URL",
    "events_queue_url": "EVENTS_QUEUE_URL",
    "stripe_events_dlq_url": "STRIPE_EVENTS_DLQ_URL",
    "billing_retention_days": "BILLING_RETENTION_DAYS",
    "billing_return_url": "BILLING_RETURN_URL",
    "reinstall_timeout_seconds": "REINSTALL_TIMEOUT_SECONDS",
    "backup_part_size_bytes": "BACKUP_PART_SIZE_BYTES",
    "backup_timeout_seconds": "BACKUP_TIMEOUT_SECONDS",
    "argon2_time_cost": "ARGON2_TIME_COST",
    "argon2_memory_kib": "ARGON2_MEMORY_KIB",
    "argon2_parallelism": "ARGON2_PARALLELISM",
    "refresh_ttl_seconds": "REFRESH_TTL_SECONDS",
    "rate_login_account": "RATE_LOGIN_ACCOUNT",
    "rate_login_ip": "RATE_LOGIN_IP",
    "rate_login_window_seconds": "RATE_LOGIN_WINDOW_SECONDS",
    "lockout_after": "LOCKOUT_AFTER",
    "lockout_seconds": "LOCKOUT_SECONDS",
    "sftp_admin_access": "SFTP_ADMIN_ACCESS",
    "rate_register_ip": "RATE_REGISTER_IP",
    "rate_forgot_ip": "RATE_FORGOT_IP",
    "rate_forgot_email": "RATE_FORGOT_EMAIL",
    "rate_verify_ip": "RATE_VERIFY_IP",
    "rate_email_change_account": "RATE_EMAIL_CHANGE_ACCOUNT",
    "rate_invite_account": "RATE_INVITE_ACCOUNT",
    "rate_invite_tenant": "RATE_INVITE_TENANT",
    "rate_invite_email": "RATE_INVITE_EMAIL",
    "max_tenants_per_account": "MAX_TENANTS_PER_ACCOUNT",
    "rate_tenant_create": "RATE_TENANT_CREATE",
    "captcha_provider": "CAPTCHA_PROVIDER",
    "pterodactyl_tenant_plan": "PTERODACTYL_TENANT_PLAN",
    "free_plan_servers": "FREE_PLAN_SERVERS",
    "free_plan_memory_mb": "FREE_PLAN_MEMORY_MB",
    "free_plan_disk_mb": "FREE_PLAN_DISK_MB",
    "free_plan_backup_bytes": "FREE_PLAN_BACKUP_BYTES",
    "free_plan_backups_per_server": "FREE_PLAN_BACKUPS_PER_SERVER",
    "free_plan_schedules_per_server": "FREE_PLAN_SCHEDULES_PER_SERVER",
    "schedule_group": "SCHEDULE_GROUP",
    "schedule_target_arn": "SCHEDULE_TARGET_ARN",
    "scheduler_role_arn": "SCHEDULER_ROLE_ARN",
    "schedule_backup_poll_seconds": "SCHEDULE_BACKUP_POLL_SECONDS",
    "provision_install_timeout_seconds": "PROVISION_INSTALL_TIMEOUT_SECONDS",
    "provision_start_timeout_seconds": "PROVISION_START_TIMEOUT_SECONDS",
    "provision_poll_seconds": "PROVISION_POLL_SECONDS",
    "provision_watch_seconds": "PROVISION_WATCH_SECONDS",
    "captcha_verify_url": "CAPTCHA_VERIFY_URL",
    "local_dir": "MAMBA_LOCAL_DIR",
    "seed_admin_email": "MAMBA_ADMIN_EMAIL",
    "oauth_google_client_id": "OAUTH_GOOGLE_CLIENT_ID",
    "oauth_microsoft_client_id": "OAUTH_MICROSOFT_CLIENT_ID",
    "oauth_github_client_id": "OAUTH_GITHUB_CLIENT_ID",
    "oauth_discord_client_id": "OAUTH_DISCORD_CLIENT_ID",
    "oauth_google_discovery_url": "OAUTH_GOOGLE_DISCOVERY_URL",
    "oauth_microsoft_discovery_url": "OAUTH_MICROSOFT_DISCOVERY_URL",
    "oauth_github_url": "OAUTH_GITHUB_URL",
    "oauth_github_api_url": "OAUTH_GITHUB_API_URL",
    "oauth_discord_url": "OAUTH_DISCORD_URL",
    "oauth_discord_api_url": "OAUTH_DISCORD_API_URL",
    # Not a panel secret (nothing running reads it), but never shown: ``repr=False`` above.
    "seed_admin_password": "MAMBA_ADMIN_PASSWORD",
}


def check_secret(name: str, value: str | None) -> str:
    """Return ``value`` if it is usable as a secret, else raise ConfigError naming ``name``."""
    if value is None or not value.strip():
        raise ConfigError(f"{name} is required but not set")
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"{name} is too short: at least {MIN_SECRET_BYTES} bytes are required")
    normalized = re.sub(r"[^a-z0-9]", "", value.lower())
    if any(default in normalized for default in KNOWN_DEFAULTS):
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
    """Fetch secrets through Powertools parameters (imported only in deployed mode).

    Settings are parsed once per process, so Powertools' cache would only serve stale values
    to a second parse (tests); every read is forced. When both sources are set, a value in
    the Secrets Manager document wins over the SSM parameter of the same name.
    """
    secrets_id = environ.get("MAMBA_SECRETS_ID")
    ssm_path = environ.get("MAMBA_SSM_PATH")
    if not secrets_id and not ssm_path:
        raise ConfigError(
            "JWT_SECRET is required but no secret source is configured: "
            "set MAMBA_SECRETS_ID (a Secrets Manager JSON secret) or MAMBA_SSM_PATH in deployed mode"
        )
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

    found: dict[str, str] = {}
    if ssm_path:
        try:
            by_path = parameters.get_parameters(ssm_path, decrypt=True, force_fetch=True)
        except GetParameterError as exc:
            raise ConfigError(f"MAMBA_SSM_PATH: the parameters under {ssm_path!r} could not be read") from exc
        found.update({k.rsplit("/", 1)[-1]: str(v) for k, v in by_path.items()})
    if secrets_id:
        try:
            document = parameters.get_secret(secrets_id, transform="json", force_fetch=True)
        except (GetParameterError, TransformParameterError) as exc:
            raise ConfigError(f"MAMBA_SECRETS_ID: the secret {secrets_id!r} could not be read as JSON") from exc
        if not isinstance(document, dict):
            raise ConfigError("MAMBA_SECRETS_ID must name a secret holding a JSON object")
        found.update({k: str(v) for k, v in document.items()})
    return found


def _captcha(mode: str, provider: str, secrets: dict[str, str]) -> tuple[str, str | None]:
    """The CAPTCHA provider and its secret. Deployed, the provider must be chosen explicitly
    (``disabled`` included), so a panel never runs without CAPTCHA by omission; local and
    test modes default to ``disabled``."""
    provider = provider.strip().lower() or ("disabled" if mode != "deployed" else "")
    if not provider:
        raise ConfigError("CAPTCHA_PROVIDER is required in deployed mode: turnstile, hcaptcha or disabled")
    if provider not in ("turnstile", "hcaptcha", "disabled"):
        raise ConfigError(f"CAPTCHA_PROVIDER must be turnstile, hcaptcha or disabled, not {provider!r}")
    secret = (secrets.get("CAPTCHA_SECRET_KEY") or "").strip() or None
    if provider != "disabled" and secret is None:
        raise ConfigError(f"CAPTCHA_SECRET_KEY is required when CAPTCHA_PROVIDER is {provider}")
    return provider, secret


def _oauth_secrets(env_map: Mapping[str, str], secrets: dict[str, str]) -> dict[str, str]:
    """The client secret of every provider whose client id is set: required then (a provider
    offered without one would fail every sign-in at the token exchange), never logged."""
    found: dict[str, str] = {}
    for provider, name in zip(OAUTH_PROVIDERS, OAUTH_SECRET_NAMES, strict=True):
        if not (env_map.get(f"OAUTH_{provider.upper()}_CLIENT_ID") or "").strip():
            continue
        value = (secrets.get(name) or "").strip()
        if not value:
            raise ConfigError(f"{name} is required when OAUTH_{provider.upper()}_CLIENT_ID is set")
        if len(value) < MIN_CLIENT_SECRET_CHARS:
            raise ConfigError(f"{name} is too short to be a provider's client secret")
        found[provider] = value
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
        secrets.update({k: env_map[k] for k in (*SECRET_NAMES, *OAUTH_SECRET_NAMES) if env_map.get(k)})

    billing = _truthy(env_map.get("BILLING_ENABLED"))
    jwt_secret = check_secret("JWT_SECRET", secrets.get("JWT_SECRET"))
    stripe_key = secrets.get("STRIPE_SECRET_KEY") or None
    webhook_secrets: tuple[str, ...] = ()
    if billing:
        stripe_key = check_secret("STRIPE_SECRET_KEY", stripe_key)
        raw = secrets.get("STRIPE_WEBHOOK_SECRET", "")
        # Several comma-separated secrets are accepted so an endpoint secret can be rolled.
        parts = [part.strip() for part in raw.split(",")] if raw.strip() else [""]
        webhook_secrets = tuple(check_secret("STRIPE_WEBHOOK_SECRET", part) for part in parts)
    captcha_provider, captcha_secret = _captcha(mode, env_map.get("CAPTCHA_PROVIDER", ""), secrets)

    plain: dict[str, object] = {
        field: env_map[variable] for field, variable in VARIABLES.items() if env_map.get(variable)
    }
    plain.update(
        env=mode,
        region=env_map.get("AWS_REGION") or env_map.get("AWS_DEFAULT_REGION") or "us-east-1",
        tracing_enabled=_truthy(env_map.get("MAMBA_TRACING")),
        billing_enabled=billing,
        captcha_provider=captcha_provider,
    )
    if "public_url" in plain:
        plain["public_url"] = str(plain["public_url"]).rstrip("/")
    if "log_level" in plain:
        plain["log_level"] = str(plain["log_level"]).upper()
    try:
        return Settings(
            **plain,  # type: ignore[arg-type]
            jwt_secret=jwt_secret,
            stripe_secret_key=stripe_key,
            stripe_webhook_secrets=webhook_secrets,
            captcha_secret_key=captcha_secret,
            oauth_client_secrets=_oauth_secrets(env_map, secrets),
        )
    except PydanticValidationError as exc:
        # Name the variable, never echo the input (it could be a secret pasted in the wrong place).
        first = exc.errors(include_url=False, include_input=False)[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        raise ConfigError(f"{VARIABLES.get(field, field.upper())} is invalid: {first['msg']}") from exc


# Where secrets and the URL come from locally; a stack's settings must not mix with them.
_SOURCE_VARIABLES = ("MAMBA_LOCAL_SECRETS_FILE", "MAMBA_SSM_PATH")


def use_environment(values: Mapping[str, str]) -> None:
    """Make ``values`` (a deployed stack's settings: ``mamba --stack``) this process's
    configuration: they replace what the shell exported, and the secret sources the stack does
    not name are dropped. The Settings are parsed again on next use."""
    for name in _SOURCE_VARIABLES:
        if name not in values:
            os.environ.pop(name, None)
    os.environ.update(values)
    get_settings.cache_clear()


def local_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The local stack's folder, ``MAMBA_LOCAL_DIR`` or ``.local``, read without the rest of the
    Settings: ``mamba mail`` lists the local mail where no secret is configured."""
    env_map = os.environ if environ is None else environ
    return Path(env_map.get(VARIABLES["local_dir"]) or DEFAULT_LOCAL_DIR)


@functools.cache
def get_settings() -> Settings:
    """The process-wide Settings, parsed on first use."""
    return load_settings()


def warnings(settings: Settings) -> list[str]:
    """What a deployed panel runs with but should not for long: printed by ``mamba check-config``
    and ``mamba check-platform`` (docs/deploy.md's checklist clears each one)."""
    if settings.env != "deployed":
        return []
    found: list[str] = []
    if settings.captcha_provider == "disabled":
        found.append(
            "CAPTCHA is disabled (CaptchaProvider=disabled): registration and login are open to bots beyond "
            "the rate limits; CaptchaProvider=turnstile or hcaptcha needs CAPTCHA_SECRET_KEY in the secret "
            "(docs/deploy.md#parameters)"
        )
    if not settings.public_url.startswith("https://"):
        found.append(
            f"MAMBA_PUBLIC_URL is {settings.public_url}: mail links, the Wings remote and the browser origin "
            "need the panel's https URL (WebDomainName with its certificate, or PublicUrl set to the "
            "stack's PanelUrl output)"
        )
    return found


def describe(settings: Settings | None = None) -> str:
    """A printable summary (of the process-wide Settings by default) that never contains a secret."""
    settings = settings or get_settings()
    data = settings.model_dump(exclude=set(SECRET_FIELDS))
    data["secrets"] = {
        "JWT_SECRET": "set",
        "STRIPE_SECRET_KEY": "set" if settings.stripe_secret_key else "unset",
        "STRIPE_WEBHOOK_SECRET": f"{len(settings.stripe_webhook_secrets)} set",
        "CAPTCHA_SECRET_KEY": "set" if settings.captcha_secret_key else "unset",
        "MAMBA_ADMIN_PASSWORD": "set" if settings.seed_admin_password else "unset",
        **{f"OAUTH_{p.upper()}_CLIENT_SECRET": "set" for p in settings.oauth_client_secrets},
    }
    return json.dumps(data, indent=2, sort_keys=True)
