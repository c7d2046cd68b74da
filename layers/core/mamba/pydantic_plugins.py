"""pydantic without plugin discovery (the panel uses no pydantic plugin).

pydantic looks for plugins when it builds the first validator: ``pydantic.plugin._loader``
scans every installed distribution's entry points unless ``PYDANTIC_DISABLE_PLUGINS`` says
``__all__`` (or ``1``/``true``), and even then importing that module imports
``importlib.metadata`` for the scan it will not do: about 16 ms of CPU of every cold function
(docs/performance.md), for nothing.

``mamba.config`` sets the variable (``setdefault``: an operator who wants a plugin sets it
themselves) and passes its value to ``disable()``, which, only when it disables every plugin,
gives pydantic a loader that answers what pydantic's own answers then, no plugins, without
importing ``importlib.metadata``. When the value names a plugin to keep, or the loader was
imported already, nothing is replaced.
``tests/unit/test_pydantic_plugins.py`` checks both and that models still build.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

_LOADER = "pydantic.plugin._loader"
ALL_DISABLED = ("__all__", "1", "true")  # pydantic's own spellings of "no plugin at all"


def _no_plugins() -> tuple[Any, ...]:
    return ()


def disable(setting: str) -> bool:
    """Given ``PYDANTIC_DISABLE_PLUGINS``'s value, before pydantic builds anything: True when the
    loader that imports ``importlib.metadata`` was replaced by one that knows there is nothing to load."""
    if setting not in ALL_DISABLED or _LOADER in sys.modules:
        return False
    loader = ModuleType(_LOADER, "pydantic's plugin loader while every plugin is disabled (mamba.pydantic_plugins)")
    loader.get_plugins = _no_plugins  # type: ignore[attr-defined]
    sys.modules[_LOADER] = loader
    return True
