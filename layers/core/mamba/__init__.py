"""Mamba Host Panel shared library (shipped in the dependency layer)."""
