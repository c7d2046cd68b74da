"""Finds the migrations in ``mamba.migrations.versions``, in version order."""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import cast

from mamba.migrations import versions
from mamba.migrations.model import Migration, MigrationError

MODULE_NAME = re.compile(r"^m(\d{4})_[a-z0-9_]+$")


def load_migrations() -> list[Migration]:
    """Every ``m<NNNN>_*`` module of the versions package, checked and sorted by version.

    Raises MigrationError when a module's ``version`` differs from its file name's, a
    version repeats, or ``up``/``down``/``description`` is missing.
    """
    found: dict[str, Migration] = {}
    for info in pkgutil.iter_modules(versions.__path__):
        match = MODULE_NAME.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{versions.__name__}.{info.name}")
        version = getattr(module, "version", None)
        if version != match.group(1):
            raise MigrationError(f"{info.name}: version must be {match.group(1)!r}, not {version!r}.")
        if not isinstance(getattr(module, "description", None), str):
            raise MigrationError(f"{info.name}: a description is required.")
        if not (callable(getattr(module, "up", None)) and callable(getattr(module, "down", None))):
            raise MigrationError(f"{info.name}: up(ctx) and down(ctx) are both required.")
        if version in found:
            raise MigrationError(f"{info.name}: version {version} is used twice.")
        found[version] = cast(Migration, module)
    return [found[v] for v in sorted(found)]
