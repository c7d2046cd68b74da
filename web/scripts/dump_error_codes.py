"""Print every error ``code`` the API can answer with, as a sorted JSON list.

The codes are the ``code`` of every ``DomainError`` subclass (the one error family that
``mamba.web.error_response`` turns into the error shape). Every module of ``mamba`` is
imported so a subclass defined outside ``domain/errors.py`` (the guard's, the webhook's,
the migration runner's) is found too. The web app's error test checks that each code has a
sentence in every language (web/src/lib/errors.test.ts); scripts/gen-openapi-types writes it.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import secrets
import sys


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def main() -> None:
    os.environ.update({"MAMBA_ENV": "test", "MAMBA_LOCAL_SECRETS_FILE": "/nonexistent"})
    os.environ.setdefault("JWT_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    import app  # noqa: F401  (registers every route and imports the doors)
    import mamba
    from mamba.domain.errors import DomainError

    for module in pkgutil.walk_packages(mamba.__path__, "mamba."):
        importlib.import_module(module.name)
    codes = sorted({DomainError.code, *(str(cls.code) for cls in _subclasses(DomainError))})
    json.dump(codes, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
