"""Admin and non-admin callers for the /v1/admin API tests (users written straight to moto)."""

from __future__ import annotations

from mamba import bootstrap
from mamba.auth.tokens import issue_access
from mamba.domain.accounts import User

T0 = "2026-11-25T10:00:00Z"


def callers() -> dict[str, dict[str, str]]:
    """``{"admin": headers, "user": headers}``: a platform admin and an ordinary account."""
    bootstrap.dynamo_tables()
    from mamba.adapters.dynamo.users import DynamoUserRepository

    users = DynamoUserRepository()
    users.add(User(id="usr_admin", email="admin@example.org", created_at=T0, is_admin=True, email_verified=True))
    users.add(User(id="usr_plain", email="plain@example.org", created_at=T0, email_verified=True))
    secret = bootstrap.settings().jwt_secret
    return {
        "admin": {"Authorization": f"Bearer {issue_access('usr_admin', secret)}"},
        "user": {"Authorization": f"Bearer {issue_access('usr_plain', secret)}"},
    }
