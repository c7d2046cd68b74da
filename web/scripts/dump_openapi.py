"""Print the panel's /openapi.json without a server (the web app's types are generated from it).

The document is a pure function of the route registry, so importing ``app`` in the test
environment (a throwaway JWT secret, no AWS) is enough; nothing is called.
"""

from __future__ import annotations

import json
import os
import secrets
import sys


def main() -> None:
    os.environ.update({"MAMBA_ENV": "test", "MAMBA_LOCAL_SECRETS_FILE": "/nonexistent"})
    os.environ.setdefault("JWT_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    import app  # noqa: F401  (registers every route)
    from mamba import openapi

    json.dump(openapi.document(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
