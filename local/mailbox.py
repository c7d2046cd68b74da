"""Local mail: every message sent through moto's SES lands in ``.local/mail/*.eml``.

moto keeps sent mail in memory (``ses_backends[account][region].sent_messages``; SES v2
sends land there too). ``MailSpool`` polls that list from the launcher process, where
moto runs, and writes each new message once as ``<UTC timestamp>-<message id>.eml``, so a
person can open a verification link and ``mamba mail`` can list what was sent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from mamba.observability import logger

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class MailSummary:
    path: Path
    date: str
    sender: str
    to: str
    subject: str


def list_messages(mail_dir: str | Path) -> list[MailSummary]:
    """The spooled messages, oldest first (file names start with a sortable timestamp)."""
    folder = Path(mail_dir)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.eml")):
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        found.append(
            MailSummary(
                path=path,
                date=str(parsed.get("Date", "")),
                sender=str(parsed.get("From", "")),
                to=str(parsed.get("To", "")),
                subject=str(parsed.get("Subject", "")),
            )
        )
    return found


def _addresses(destinations: Any, kind: str) -> str:
    if isinstance(destinations, dict):
        return ", ".join(destinations.get(kind) or [])
    return ", ".join(destinations or []) if kind == "ToAddresses" else ""


def to_eml(message: Any, message_id: str, sent_at: datetime) -> bytes:
    """Render one of moto's SES message objects as an RFC 5322 message."""
    raw = getattr(message, "raw_data", None)
    if raw is not None:  # send_raw_email and SES v2 Raw content: already a MIME message
        return raw.encode() if isinstance(raw, str) else bytes(raw)
    mail = EmailMessage()
    mail["Message-ID"] = f"<{message_id}@ses.local>"
    mail["Date"] = format_datetime(sent_at)
    mail["From"] = message.source
    for header, kind in (("To", "ToAddresses"), ("Cc", "CcAddresses")):
        value = _addresses(getattr(message, "destinations", None), kind)
        if value:
            mail[header] = value
    if hasattr(message, "template"):  # templated sends: moto keeps the template name and data
        mail["Subject"] = f"[template {message.template}]"
        mail.set_content(json.dumps(json.loads(message.template_data or "{}"), indent=2) + "\n")
        return mail.as_bytes()
    mail["Subject"] = message.subject or ""
    body = message.body or ""
    if body.lstrip().startswith("<"):
        mail.set_content(body, subtype="html")
    else:
        mail.set_content(body)
    return mail.as_bytes()


def _sent_messages() -> list[Any]:
    from moto.ses.models import ses_backends

    messages: list[Any] = []
    for regions in list(ses_backends.values()):
        for backend in list(regions.values()):
            messages.extend(list(backend.sent_messages))
    return messages


class MailSpool(threading.Thread):
    """Writes each message moto's SES has sent to ``mail_dir``, once."""

    def __init__(self, mail_dir: Path, interval: float = POLL_SECONDS) -> None:
        super().__init__(name="mail-spool", daemon=True)
        self.mail_dir = mail_dir
        self.interval = interval
        self._stopping = threading.Event()
        self._seen: set[str] = set()
        self._lock = threading.Lock()  # the launcher flushes once more while stopping

    def poll_once(self) -> list[Path]:
        with self._lock:
            return self._write_new()

    def _write_new(self) -> list[Path]:
        written = []
        for message in _sent_messages():
            ids = getattr(message, "ids", None) or [message.id]  # bulk templated sends carry several ids
            key = ids[0]
            if key in self._seen:
                continue
            self._seen.add(key)
            now = datetime.now(UTC)
            self.mail_dir.mkdir(parents=True, exist_ok=True)
            path = self.mail_dir / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{key}.eml"
            path.write_bytes(to_eml(message, key, now))
            written.append(path)
        return written

    def run(self) -> None:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        while not self._stopping.wait(self.interval):
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 (the spool must outlive one bad message)
                logger.exception("mail spool: could not write a message")

    def stop(self) -> None:
        self._stopping.set()
