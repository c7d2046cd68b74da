"""The notification mails (docs/notifications.md): one per event type, in English and German,
plain text in the look of the account mails (``mamba.mail_templates``): a greeting, what
happened in a sentence or two, the facts as ``name: value`` lines, a link to the panel, and
where to change what is mailed.

The panel's link goes to the server's page when the event names a server, else to the tenant
(or, for a platform event, the admin's node page).
"""

from __future__ import annotations

from collections.abc import Mapping

from mamba.domain.events import Event
from mamba.mail_templates import PRODUCT, Mail

# type → language → (subject, sentence). ``{name}`` placeholders come from the payload (plus
# ``server_name`` and ``product``); a missing one reads as "?".
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "server.created": {
        "en": ("Server {server_name} is ready", "Your server {server_name} was created and installed."),
        "de": ("Server {server_name} ist bereit", "Dein Server {server_name} wurde erstellt und installiert."),
    },
    "server.install_failed": {
        "en": ("Server {server_name} could not be installed", "The install of your server {server_name} failed."),
        "de": (
            "Server {server_name} konnte nicht installiert werden",
            "Die Installation deines Servers {server_name} ist fehlgeschlagen.",
        ),
    },
    "server.deleted": {
        "en": ("Server {server_name} was deleted", "The server {server_name} and its files were deleted."),
        "de": ("Server {server_name} wurde gelöscht", "Der Server {server_name} und seine Dateien wurden gelöscht."),
    },
    "server.suspended": {
        "en": ("Server {server_name} was suspended", "Your server {server_name} was suspended and cannot run."),
        "de": (
            "Server {server_name} wurde gesperrt",
            "Dein Server {server_name} wurde gesperrt und kann nicht laufen.",
        ),
    },
    "server.crashed": {
        "en": ("Server {server_name} crashed", "Your server {server_name} stopped unexpectedly."),
        "de": ("Server {server_name} ist abgestürzt", "Dein Server {server_name} wurde unerwartet beendet."),
    },
    "server.oom_suspected": {
        "en": (
            "Server {server_name} ran out of memory",
            "Your server {server_name} stopped at its memory limit. Consider more memory.",
        ),
        "de": (
            "Server {server_name} hatte zu wenig Arbeitsspeicher",
            "Dein Server {server_name} wurde an seiner Speichergrenze beendet. Erwäge mehr Arbeitsspeicher.",
        ),
    },
    "server.crash_loop": {
        "en": ("Server {server_name} keeps crashing", "Your server {server_name} crashed again and again."),
        "de": ("Server {server_name} stürzt immer wieder ab", "Dein Server {server_name} stürzt wiederholt ab."),
    },
    "backup.completed": {
        "en": ("Backup {backup_name} completed", "The backup {backup_name} of {server_name} completed."),
        "de": ("Backup {backup_name} fertig", "Das Backup {backup_name} von {server_name} ist fertig."),
    },
    "backup.failed": {
        "en": ("Backup {backup_name} failed", "The backup {backup_name} of {server_name} failed."),
        "de": (
            "Backup {backup_name} fehlgeschlagen",
            "Das Backup {backup_name} von {server_name} ist fehlgeschlagen.",
        ),
    },
    "schedule.failed": {
        "en": (
            "Schedule {schedule_name} failed",
            "A task of the schedule {schedule_name} on {server_name} failed.",
        ),
        "de": (
            "Zeitplan {schedule_name} fehlgeschlagen",
            "Eine Aufgabe des Zeitplans {schedule_name} auf {server_name} ist fehlgeschlagen.",
        ),
    },
    "quota.warning": {
        "en": ("Your {quota} quota is 80 % used", "Your tenant uses {used} of its {limit} {quota}."),
        "de": ("Dein Kontingent {quota} ist zu 80 % belegt", "Dein Mandant nutzt {used} von {limit} ({quota})."),
    },
    "payment.failed": {
        "en": ("A payment failed", "We could not collect the payment of invoice {invoice_id}."),
        "de": (
            "Eine Zahlung ist fehlgeschlagen",
            "Die Zahlung der Rechnung {invoice_id} konnte nicht eingezogen werden.",
        ),
    },
    "payment.succeeded": {
        "en": ("Payment received", "Thank you: the payment of invoice {invoice_id} was received."),
        "de": ("Zahlung erhalten", "Danke: Die Zahlung der Rechnung {invoice_id} ist eingegangen."),
    },
    "member.added": {
        "en": ("{email} joined your tenant", "{email} is now a member, as {role}."),
        "de": ("{email} ist deinem Mandanten beigetreten", "{email} ist jetzt Mitglied, als {role}."),
    },
    "member.removed": {
        "en": ("{email} left your tenant", "{email} is no longer a member of your tenant."),
        "de": ("{email} hat deinen Mandanten verlassen", "{email} ist nicht mehr Mitglied deines Mandanten."),
    },
    "api_key.created": {
        "en": (
            "A new API key: {key_name}",
            "An API key named {key_name} was created for {owner_email}. If this was not you, revoke it now.",
        ),
        "de": (
            "Ein neuer API-Schlüssel: {key_name}",
            "Ein API-Schlüssel namens {key_name} wurde für {owner_email} erstellt. "
            "Warst du das nicht, widerrufe ihn sofort.",
        ),
    },
    "node.down": {
        "en": ("Node {node_name} is down", "The node {node_name} stopped answering."),
        "de": ("Node {node_name} ist ausgefallen", "Der Node {node_name} antwortet nicht mehr."),
    },
    "node.recovered": {
        "en": ("Node {node_name} recovered", "The node {node_name} answers again."),
        "de": ("Node {node_name} ist wieder da", "Der Node {node_name} antwortet wieder."),
    },
}

_WORDS = {
    "en": {
        "hello": "Hello",
        "open": "Open it in the panel:",
        "prefs": "You get this mail because of your notification preferences; change them in your account:",
        "when": "When",
    },
    "de": {
        "hello": "Hallo",
        "open": "Im Panel öffnen:",
        "prefs": "Du erhältst diese Mail wegen deiner Benachrichtigungseinstellungen; ändere sie in deinem Konto:",
        "when": "Wann",
    },
}


class _Defaulting(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "?"


def panel_link(public_url: str, event: Event) -> str:
    base = public_url.rstrip("/")
    if event.tenant_id and event.server_id:
        return f"{base}/t/{event.tenant_id}/servers/{event.server_id}"
    if event.tenant_id:
        return f"{base}/t/{event.tenant_id}"
    node_id = event.payload.get("node_id")
    return f"{base}/admin/nodes/{node_id}" if node_id else f"{base}/admin"


def render(event: Event, language: str, public_url: str, name: str | None = None) -> Mail:
    """The mail of this event in ``language`` (English when there is no such translation)."""
    texts = TEXTS.get(event.type, {})
    lang = language if language in texts and language in _WORDS else "en"
    words = _WORDS[lang]
    subject_tpl, sentence_tpl = texts.get(lang) or (event.type, event.type)
    values: Mapping[str, object] = _Defaulting({**event.payload, "product": PRODUCT})
    facts = "".join(f"{key}: {value}\n" for key, value in event.payload.items())
    greeting = f"{words['hello']} {name}," if name else f"{words['hello']},"
    base = public_url.rstrip("/")
    return Mail(
        subject=f"{subject_tpl.format_map(values)} ({PRODUCT})",
        text=(
            f"{greeting}\n\n"
            f"{sentence_tpl.format_map(values)}\n\n"
            f"{facts}{words['when']}: {event.occurred_at}\n\n"
            f"{words['open']}\n\n{panel_link(public_url, event)}\n\n"
            f"{words['prefs']}\n{base}/account/notifications\n"
        ),
    )
