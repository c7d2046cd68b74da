"""Mail through SES (v2). Locally moto's SES receives it and the launcher writes .eml files."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mamba.domain.errors import DependencyUnavailableError


class SesMailer:
    def __init__(self, client: Any, sender: str) -> None:
        self._client = client
        self._sender = sender

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        body: dict[str, Any] = {"Text": {"Data": text, "Charset": "UTF-8"}}
        if html is not None:
            body["Html"] = {"Data": html, "Charset": "UTF-8"}
        try:
            self._client.send_email(
                FromEmailAddress=self._sender,
                Destination={"ToAddresses": [to]},
                Content={"Simple": {"Subject": {"Data": subject, "Charset": "UTF-8"}, "Body": body}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailableError("Mail could not be sent; try again shortly.") from exc
