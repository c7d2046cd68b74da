"""Deferred imports for the doors.

Every Lambda imports the whole ``app.py`` graph, and every door module must be imported
to register its routes. A door's service module (and what it pulls in) is only needed
when one of its routes is called, so doors bind their services with ``lazy_import``: the
name is a module object whose code runs on first attribute access (stdlib LazyLoader).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_import(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
