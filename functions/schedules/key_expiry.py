"""The 7-day expiry notice of service-account keys (mamba.services.service_accounts
``notify_expiring_keys``), run on the existing ``backup_usage`` schedule (every 6 hours; locally
by local/scheduler.py): a key is announced to its tenant's owners once, between 7 days and
6 hours before it expires. ``now`` in the event (epoch seconds) replaces the clock for tests."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mamba import bootstrap, mail_templates
from mamba.lazy import lazy_import
from mamba.observability import logger

if TYPE_CHECKING:
    from mamba.domain.service_accounts import ExpiringKey
    from mamba.services import service_accounts
else:
    service_accounts = lazy_import("mamba.services.service_accounts")


def _mail(expiring: ExpiringKey, language: str) -> tuple[str, str]:
    key = expiring.key
    assert key.expires_at is not None  # only expiring keys are listed
    mail = mail_templates.service_key_expiring(
        bootstrap.settings().public_url,
        expiring.tenant_id,
        expiring.service_account_name,
        key.name,
        key.prefix,
        key.expires_at,
        language,
    )
    return mail.subject, mail.text


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    now = float(event.get("now") or time.time())
    done = service_accounts.notify_expiring_keys(
        bootstrap.service_account_repository(),
        bootstrap.mailer(),
        bootstrap.tenant_owner_contacts,  # each owner in their mail language
        _mail,
        now=now,
    )
    logger.info("service-account key expiry notices", extra=done)
    return done
