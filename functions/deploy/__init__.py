"""Doors that CloudFormation calls during a deploy (custom resources)."""
