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


# --- accounts: users, email uniqueness, tenants, memberships (see docs/data-model.md) ---


def email_claim(email: str) -> tuple[str, str]:
    """The item whose conditional put makes an email unique; it holds the owning user id."""
    return user_email(email), "CLAIM"


USER_MEMBERSHIP_PREFIX = "TENANT#"


def user_membership_sort(tenant_id: str) -> str:
    """gsi1sk of a membership, under gsi1pk ``memberships_of_user(user_id)``."""
    return f"{USER_MEMBERSHIP_PREFIX}{tenant_id}"


ALL_USERS = "USERS"  # gsi1pk of every user profile (admin listing, newest last)
ALL_TENANTS = "TENANTS"  # gsi1pk of every tenant profile (admin listing, newest last)


def created_sort(created_at: str, item_id: str) -> str:
    """gsi1sk for the admin listings: ISO time first so a Query returns them in creation order."""
    return f"{created_at}#{item_id}"


# --- role catalogue (written by migration 0001) ---

BUILTIN_ROLES = "ROLES#BUILTIN"
ROLE_PREFIX = "ROLE#"


def builtin_role(name: str) -> tuple[str, str]:
    return BUILTIN_ROLES, f"{ROLE_PREFIX}{name}"


def api_key(key_id: str) -> tuple[str, str]:
    return f"APIKEY#{key_id}", "KEY"
