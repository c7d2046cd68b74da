"""Mamba Host Panel shared library (shipped in the dependency layer)."""

import os

# The panel uses no pydantic plugins. Without this, defining the first model scans every
# installed distribution's entry points for plugins: about 10 ms of every cold start (see
# docs/performance.md). An operator who does want a plugin sets the variable themselves.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
