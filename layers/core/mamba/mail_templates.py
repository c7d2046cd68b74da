"""Every account mail the panel sends, as plain text: verification, email change, password
reset and lockout. One module, so wording, links and lifetimes are reviewed in one place.

Links point at ``public_url`` (``MAMBA_PUBLIC_URL``) with the token as ``token=<token>``;
the page there posts it to the API. Each mail also names the API call, so the token works
without a web front end (``make run``'s mailbox, scripts). Lines stay under 78 characters
where the URL allows, so a mail goes out as plain 7-bit text that reads (and greps) as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

PRODUCT = "Mamba Host Panel"


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str


def link(public_url: str, page: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/{page}?{urlencode({'token': token})}"


def _hours(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" + ("s" if hours != 1 else "")
    minutes = max(1, seconds // 60)
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


def _greeting(name: str | None) -> str:
    return f"Hello {name}," if name else "Hello,"


def verification(public_url: str, token: str, lifetime: int, name: str | None = None) -> Mail:
    url = link(public_url, "verify-email", token)
    return Mail(
        subject=f"Verify your email for {PRODUCT}",
        text=(
            f"{_greeting(name)}\n\n"
            f"Welcome to {PRODUCT}. Confirm that this address is yours\n"
            "by opening this link:\n\n"
            f"{url}\n\n"
            f"The link works once and expires in {_hours(lifetime)}. Until the address\n"
            "is verified you can sign in, but not create tenants or servers.\n\n"
            "API: POST /v1/auth/verify-email with the token\n"
            f"{token}\n\n"
            "If you did not create an account, ignore this mail; nothing\n"
            "happens without the link.\n"
        ),
    )


def email_change(public_url: str, token: str, lifetime: int, new_email: str, name: str | None = None) -> Mail:
    """Sent to the new address: following the link makes it the account's email."""
    url = link(public_url, "verify-email", token)
    return Mail(
        subject=f"Confirm your new email for {PRODUCT}",
        text=(
            f"{_greeting(name)}\n\n"
            f"You asked to change the email of your {PRODUCT} account to\n"
            f"{new_email}. Confirm it by opening this link:\n\n"
            f"{url}\n\n"
            f"The link works once and expires in {_hours(lifetime)}. Until then your\n"
            "account keeps its current address.\n\n"
            "API: POST /v1/auth/verify-email with the token\n"
            f"{token}\n\n"
            "If you did not ask for this, ignore this mail.\n"
        ),
    )


def email_change_notice(new_email: str, name: str | None = None) -> Mail:
    """Sent to the current address, so a hijacked session cannot move an account silently."""
    return Mail(
        subject=f"Your {PRODUCT} email is being changed",
        text=(
            f"{_greeting(name)}\n\n"
            f"Someone signed in to your {PRODUCT} account asked to change its\n"
            f"email to {new_email}. The change happens only when the link\n"
            "sent to that address is opened.\n\n"
            "If this was not you, reset your password now: that signs every\n"
            "session out.\n"
        ),
    )


def two_factor_reset(name: str | None = None) -> Mail:
    """Sent when a platform admin turned the account's 2FA off (a lost authenticator), so the
    owner learns of it whoever asked for it."""
    return Mail(
        subject=f"Two-factor authentication was turned off on your {PRODUCT} account",
        text=(
            f"{_greeting(name)}\n\n"
            f"A {PRODUCT} administrator turned off two-factor authentication on your\n"
            "account, as asked for when an authenticator is lost. Sign in with your\n"
            "password and turn it on again in your account settings.\n\n"
            "If you did not ask for this, reset your password now and contact support.\n"
        ),
    )


def passkey_changed(added: bool, passkey_name: str, name: str | None = None) -> Mail:
    """Sent when a passkey is added to or removed from the account (docs/passkeys.md): a new way
    in, or one fewer, is something the owner must hear of, whoever did it."""
    what = "added to" if added else "removed from"
    return Mail(
        subject=f"A passkey was {what} your {PRODUCT} account",
        text=(
            f"{_greeting(name)}\n\n"
            f'The passkey "{passkey_name}" was {what} your account.\n'
            + ("It can now sign you in, and confirm a sign-in with your password.\n\n" if added else "\n")
            + "If this was not you, reset your password now, remove the passkeys you do not\n"
            "know from your account page, and contact support.\n"
        ),
    )


def password_reset(public_url: str, token: str, lifetime: int, name: str | None = None) -> Mail:
    url = link(public_url, "reset-password", token)
    return Mail(
        subject=f"Reset your {PRODUCT} password",
        text=(
            f"{_greeting(name)}\n\n"
            "Someone asked to reset the password of your account.\n"
            "To choose a new password, open:\n\n"
            f"{url}\n\n"
            f"The link works once and expires in {_hours(lifetime)}. Resetting signs\n"
            "you out everywhere.\n\n"
            "API: POST /v1/auth/password/reset with the new password and the token\n"
            f"{token}\n\n"
            "If you did not ask for this, ignore this mail; your password stays\n"
            "as it is.\n"
        ),
    )


def address_claim(public_url: str, token: str, lifetime: int) -> Mail:
    """To an address someone tried to register while an unverified account holds it: the
    mailbox's owner takes the account over by choosing a password (docs/accounts.md)."""
    url = link(public_url, "reset-password", token)
    return Mail(
        subject=f"Claim your {PRODUCT} account",
        text=(
            "Hello,\n\n"
            "Someone tried to register with this address, but an account that has\n"
            "never confirmed it already holds it. If the address is yours, take the\n"
            "account over by choosing a password:\n\n"
            f"{url}\n\n"
            f"The link works once and expires in {_hours(lifetime)}. Whoever set up the\n"
            "account before you loses its password, sessions, API keys and two-factor\n"
            "settings.\n\n"
            "API: POST /v1/auth/password/reset with the new password and the token\n"
            f"{token}\n\n"
            "If you did not try to register, ignore this mail.\n"
        ),
    )


def lockout(public_url: str, failures: int, lock_seconds: int, source_ip: str, name: str | None = None) -> Mail:
    origin = f"\nThe last attempt came from {source_ip}." if source_ip else ""
    return Mail(
        subject=f"Your {PRODUCT} account was locked",
        text=(
            f"{_greeting(name)}\n\n"
            f"After {failures} failed sign-in attempts in a row, your account is\n"
            f"locked for {_hours(lock_seconds)}.{origin}\n\n"
            "If this was you, wait and try again. If it was not, someone is\n"
            "guessing your password: choose a new one, which also lifts the\n"
            "lock at once:\n\n"
            f"{public_url.rstrip('/')}/forgot-password\n"
        ),
    )


# --- outgoing webhooks (mamba.services.webhooks) ---


def webhook_disabled(public_url: str, tenant_id: str, url: str, language: str = "en") -> Mail:
    """To the tenant's owners, each in their mail language (docs/notifications.md), when the
    panel disabled a webhook that failed for 3 days."""
    page = f"{public_url.rstrip('/')}/t/{tenant_id}/webhooks"
    if language == "de":
        return Mail(
            subject=f"Ein Webhook von {PRODUCT} wurde deaktiviert",
            text=(
                "Hallo,\n\n"
                "Zustellungen an diesen Webhook schlagen seit 3 Tagen fehl. Er ist\n"
                "deshalb deaktiviert und erhält keine Ereignisse mehr:\n\n"
                f"{url}\n\n"
                "Im Zustellprotokoll steht, was der Empfänger geantwortet hat. Behebe\n"
                "den Fehler, sende einen Test und aktiviere den Webhook dann wieder:\n\n"
                f"{page}\n"
            ),
        )
    return Mail(
        subject=f"A {PRODUCT} webhook was disabled",
        text=(
            "Hello,\n\n"
            "Deliveries to this webhook have failed for 3 days, so it is now\n"
            "disabled and gets no more events:\n\n"
            f"{url}\n\n"
            "Its delivery log shows what the endpoint answered. Fix the endpoint,\n"
            "send a test, then enable the webhook again:\n\n"
            f"{page}\n"
        ),
    )


def oauth_link(public_url: str, token: str, lifetime: int, provider: str, name: str | None = None) -> Mail:
    """The proof that the account's owner wants a provider's sign-in linked (docs/oauth.md)."""
    return Mail(
        subject=f"Link {provider} sign-in to your {PRODUCT} account",
        text=(
            f"{_greeting(name)}\n\n"
            f"Someone signed in with {provider} using this email address and asked to\n"
            f"link that sign-in to your {PRODUCT} account. If it was you, open this\n"
            f"link within {_hours(lifetime)}:\n\n"
            f"{link(public_url, 'oauth/link', token)}\n\n"
            "If it was not you, ignore this mail: nothing is linked without it.\n"
        ),
    )


# --- billing (mamba.services.billing_sync) ---


def _billing_page(public_url: str, tenant_id: str) -> str:
    return f"{public_url.rstrip('/')}/tenants/{tenant_id}/billing"


def payment_failed(hosted_invoice_url: str | None) -> Mail:
    where = f"Pay the invoice here:\n\n{hosted_invoice_url}\n\n" if hosted_invoice_url else ""
    return Mail(
        subject=f"Your {PRODUCT} payment failed",
        text=(
            "Hello,\n\n"
            "We could not collect your subscription payment. Your servers keep\n"
            "running during a grace period; after it they are suspended.\n\n"
            f"{where}"
            "You can also update your card from the billing page of your tenant.\n"
        ),
    )


def payment_action_required(hosted_invoice_url: str | None) -> Mail:
    where = f"{hosted_invoice_url}\n\n" if hosted_invoice_url else "the billing page of your tenant.\n\n"
    return Mail(
        subject=f"Authenticate your {PRODUCT} payment",
        text=f"Hello,\n\nYour bank asks you to confirm a payment. Complete it here:\n\n{where}",
    )


def grace_ending(public_url: str, tenant_id: str, ends_at: int) -> Mail:
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(ends_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Mail(
        subject=f"Your {PRODUCT} servers will be suspended soon",
        text=(
            "Hello,\n\n"
            f"Your payment is still outstanding. On {when} your servers\n"
            "will be suspended. Update your payment method on the billing page:\n\n"
            f"{_billing_page(public_url, tenant_id)}\n"
        ),
    )


def tenant_suspended(public_url: str, tenant_id: str) -> Mail:
    return Mail(
        subject=f"Your {PRODUCT} servers are suspended",
        text=(
            "Hello,\n\n"
            "Your subscription is not paid, so your servers are suspended. Your\n"
            "data is kept; pay the open invoice to bring them back:\n\n"
            f"{_billing_page(public_url, tenant_id)}\n"
        ),
    )


def tenant_reactivated(public_url: str, tenant_id: str) -> Mail:
    return Mail(
        subject=f"Your {PRODUCT} servers are back",
        text=(
            "Hello,\n\n"
            "Thank you: your payment arrived and your servers are reactivated.\n\n"
            f"{_billing_page(public_url, tenant_id)}\n"
        ),
    )


def trial_ending(public_url: str, tenant_id: str) -> Mail:
    return Mail(
        subject=f"Your {PRODUCT} trial ends soon",
        text=(
            "Hello,\n\n"
            "Your trial ends in a few days and no card is on file. Add one from\n"
            "the billing page so your servers keep running:\n\n"
            f"{_billing_page(public_url, tenant_id)}\n"
        ),
    )


def data_deletion_warning(public_url: str, tenant_id: str, due_at: int, days: int) -> Mail:
    """The retention job's warnings (7 days, then 1 day before a canceled tenant's data goes);
    ``days`` is the time really left, in whole days."""
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(due_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    left = "tomorrow" if days == 1 else f"in {days} days"
    return Mail(
        subject=f"Your {PRODUCT} data will be deleted {left}",
        text=(
            "Hello,\n\n"
            f"Your subscription was canceled. On {when} your servers, their backups\n"
            "and your tenant's members, roles, invitations, operations and usage\n"
            "records will be deleted for good. The audit log and the billing records the law requires\n"
            "are kept.\n\n"
            "To keep your data, subscribe again on the billing page before then:\n\n"
            f"{_billing_page(public_url, tenant_id)}\n"
        ),
    )


def service_key_expiring(
    public_url: str,
    tenant_id: str,
    account_name: str,
    key_name: str,
    prefix: str,
    expires_at: int,
    language: str = "en",
) -> Mail:
    """To a tenant's owners, each in their mail language, 7 days before a service account's key
    expires (once per key; docs/service-accounts.md)."""
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = f"{public_url.rstrip('/')}/t/{tenant_id}/members#service-accounts"
    if language == "de":
        return Mail(
            subject=f"Ein Schlüssel eines Dienstkontos von {PRODUCT} läuft am {when[:10]} ab",
            text=(
                "Hallo,\n\n"
                f"Der Schlüssel {key_name!r} des Dienstkontos {account_name!r}\n"
                f"({prefix}) funktioniert ab {when} nicht mehr.\n\n"
                "Damit die Automatisierung, die ihn nutzt, weiterläuft: lege einen\n"
                "zweiten Schlüssel an, setze ihn ein und widerrufe dann den alten (ein\n"
                "Dienstkonto kann genau dafür zwei aktive Schlüssel haben):\n\n"
                f"{page}\n"
            ),
        )
    return Mail(
        subject=f"A {PRODUCT} service account key expires on {when[:10]}",
        text=(
            "Hello,\n\n"
            f"The key {key_name!r} of the service account {account_name!r}\n"
            f"({prefix}) stops working on {when}.\n\n"
            "To keep the automation that uses it running, create a second key,\n"
            "put it in place, then revoke the old one (a service account can hold\n"
            "two active keys for exactly this):\n\n"
            f"{page}\n"
        ),
    )
