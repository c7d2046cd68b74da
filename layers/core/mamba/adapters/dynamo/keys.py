"""Key functions: the only place partition and sort keys are spelled."""

from __future__ import annotations


def user(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "PROFILE"


def user_email(email: str) -> str:
    return f"EMAIL#{email.lower()}"


def tenant(tenant_id: str) -> tuple[str, str]:
    return f"TENANT#{tenant_id}", "PROFILE"


def membership(tenant_id: str, user_id: str) -> tuple[str, str]:
    return f"TENANT#{tenant_id}", f"MEMBER#{user_id}"


def memberships_of_user(user_id: str) -> str:
    return f"USER#{user_id}"


def operation(tenant_id: str, op_id: str) -> tuple[str, str]:
    return f"TENANT#{tenant_id}", f"OP#{op_id}"


def operation_by_id(op_id: str) -> str:
    return f"OP#{op_id}"


ALL_OPERATIONS = "OPS"

MIGRATION_LEDGER = ("META#MIGRATIONS", "LEDGER")
