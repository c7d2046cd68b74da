"""Mamba Host Panel shared library (shipped in the dependency layer).

Nothing here reads the environment: ``mamba.config`` is the one module that does (it also
switches pydantic's plugin scan off before the first model is built).
"""
