"""Answers a CloudFormation custom resource request: a PUT of the response document to the
request's presigned S3 ``ResponseURL`` (the standard library only: no client is needed)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from mamba.domain.errors import DependencyUnavailableError

ATTEMPTS = 3
TIMEOUT_SECONDS = 10


def send(url: str, body: dict[str, Any]) -> None:
    """PUT ``body`` to ``url``. Raises DependencyUnavailableError when S3 never accepts it (the
    stack then waits until the resource's ServiceTimeout)."""
    if not url.startswith(("https://", "http://")):
        # Only CloudFormation's presigned URL (http for the tests' stand-in), never file: or others.
        raise DependencyUnavailableError("The response URL is not an http(s) URL.")
    data = json.dumps(body).encode()
    last: Exception | None = None
    for attempt in range(ATTEMPTS):
        # The presigned URL was signed without a content type: sending one breaks the signature.
        request = urllib.request.Request(  # noqa: S310 (CloudFormation's https URL, from the event)
            url, data=data, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(data))}
        )
        try:
            # The scheme is checked above.
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310  # nosec B310
                if 200 <= answer.status < 300:
                    return
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            last = exc
        time.sleep(min(2**attempt, 4))
    raise DependencyUnavailableError("CloudFormation's response URL did not accept the answer.") from last
