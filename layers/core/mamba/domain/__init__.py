"""Entities, value objects, policies: standard library only."""
