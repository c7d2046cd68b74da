"""The environment of a bench probe that runs the panel in its own process (``bench.servers_probe``,
``bench.cost_probe``): test mode with a fresh secret, moto's dummy credentials, no endpoint
inherited from the shell (moto is in-process), and its metrics in a namespace of their own.
Call ``isolate()`` before anything imports ``mamba``: its settings read the environment once."""

from __future__ import annotations

import os
import secrets


def isolate() -> None:
    os.environ.update(
        {
            "MAMBA_ENV": "test",
            "JWT_SECRET": secrets.token_hex(32),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "MAMBA_LOCAL_SECRETS_FILE": "/nonexistent",
            "POWERTOOLS_METRICS_NAMESPACE": "MambaBench",
            "LOG_LEVEL": "ERROR",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
