"""The account field policy: which emails, passwords, display names and tenant names are
accepted. Shared by the request schemas, the account services and the ops CLI, and kept
free of service imports so the schemas load cheaply at cold start."""

from __future__ import annotations

import re
import unicodedata

from mamba.domain.common_passwords import is_common
from mamba.domain.errors import ValidationError

MAX_EMAIL_LENGTH = 254
MAX_EMAIL_LOCAL_LENGTH = 64
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MAX_NAME_LENGTH = 100
MAX_TENANT_NAME_LENGTH = 100


# local@domain.tld: the local part in RFC 5322's dot-atom form (no quoted strings), the
# domain as dot-separated LDH labels with an alphabetic TLD of two or more letters.
_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
EMAIL_PATTERN = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[a-z]{{2,63}}$")


def normalise_email(email: str) -> str:
    """Lower-cased and stripped. Raises ValidationError unless it is local@domain.tld, at
    most 254 characters (64 before the @)."""
    value = email.strip().lower()
    local = value.rpartition("@")[0]
    if len(value) > MAX_EMAIL_LENGTH or len(local) > MAX_EMAIL_LOCAL_LENGTH or not EMAIL_PATTERN.match(value):
        raise ValidationError("The email address is not valid.", {"field": "email"})
    return value


def check_password_policy(password: str, field: str = "password") -> None:
    """Raises ValidationError unless the password is 12-128 characters and not a common one."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationError(
            f"The password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long.", {"field": field}
        )
    if is_common(password):
        raise ValidationError("The password is too common; choose another.", {"field": field})


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def check_name(name: str | None) -> str | None:
    """A display name: stripped, at most 100 characters, no control characters; empty → None."""
    if name is None:
        return None
    value = name.strip()
    if len(value) > MAX_NAME_LENGTH or _has_control(value):
        raise ValidationError(
            f"The name must be at most {MAX_NAME_LENGTH} characters without control characters.", {"field": "name"}
        )
    return value or None


def check_tenant_name(name: str) -> str:
    value = name.strip()
    if not value or len(value) > MAX_TENANT_NAME_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError(
            f"The tenant name must be 1 to {MAX_TENANT_NAME_LENGTH} printable characters.", {"field": "name"}
        )
    return value
