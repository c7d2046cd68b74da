"""Deferred imports for the doors.

Every Lambda imports the whole ``app.py`` graph, and every door module must be imported
to register its routes. A door's service module (and what it pulls in) is only needed
when one of its routes is called, so doors bind their services with ``lazy_import``: the
name is a stand-in module whose first attribute access imports the real one.

The stand-in is not put in ``sys.modules``: the real import goes through
``importlib.import_module`` and its per-module import lock, so concurrent first requests
(the threaded local server) all see a fully executed module. The stdlib ``LazyLoader``
is not safe there on Python 3.12.1: a second thread could read a half-executed module.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Any

# Every module a door bound lazily, in order: SnapStart's before-snapshot hook imports them all
# (``import_deferred``), so a restored copy finds them in memory (mamba.snapstart).
DEFERRED: list[str] = []


class _Deferred(ModuleType):
    """Forwards every attribute it does not hold to the real module, importing it once."""

    def __getattr__(self, attr: str) -> Any:
        real = importlib.import_module(self.__name__)
        return getattr(real, attr)

    def __dir__(self) -> list[str]:
        return dir(importlib.import_module(self.__name__))


def lazy_import(name: str) -> ModuleType:
    """The module ``name`` if it is already imported, else a stand-in that imports it on
    first use. ImportError at once when no such module exists (a typo fails at start)."""
    if name in sys.modules:
        return sys.modules[name]
    if _spec(name) is None:
        raise ImportError(f"no module named {name!r}")
    if name not in DEFERRED:
        DEFERRED.append(name)
    return _Deferred(name)


def _spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """Where ``name`` would be imported from, without importing any package on the way:
    ``importlib.util.find_spec`` imports the parents, so a service in a subpackage
    (``mamba.services.pterodactyl.files``) would load its package at start."""
    if name in sys.modules:
        return sys.modules[name].__spec__
    parent, _, _ = name.rpartition(".")
    if not parent:
        return importlib.util.find_spec(name)
    found = _spec(parent)
    if found is None or found.submodule_search_locations is None:
        return None
    return importlib.machinery.PathFinder.find_spec(name, list(found.submodule_search_locations))


def import_deferred() -> list[str]:
    """Import every module bound with ``lazy_import`` so far; returns their names."""
    names = list(DEFERRED)
    for name in names:
        importlib.import_module(name)
    return names
