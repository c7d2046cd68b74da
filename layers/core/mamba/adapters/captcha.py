"""CAPTCHA verification through a provider's ``siteverify`` endpoint (Cloudflare Turnstile
or hCaptcha). Both take a form POST of ``secret``, ``response`` (the token the browser
widget produced) and optionally ``remoteip``, and answer JSON ``{"success": bool,
"error-codes": [...]}``; a token is valid once.

Failures are split by whose fault they are: a missing or rejected token is the caller's
(400 ``CAPTCHA_FAILED``); a provider that does not answer, or that says our own secret is
wrong, is ours (503, and the request is refused rather than let through unverified).
"""

from __future__ import annotations

from typing import Any

import requests

from mamba.domain.errors import CaptchaFailedError, DependencyUnavailableError
from mamba.observability import logger

VERIFY_URLS = {
    "turnstile": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    "hcaptcha": "https://api.hcaptcha.com/siteverify",
}
# Connect and read timeouts (seconds): the provider answers in well under a second; a
# login must not hang on it for the whole Lambda timeout.
TIMEOUT = (3.05, 5.0)
MAX_TOKEN_LENGTH = 4096
# Codes that mean our configuration is wrong, not the user's answer.
OUR_FAULT = frozenset({"missing-input-secret", "invalid-input-secret", "sitekey-secret-mismatch"})


class SiteverifyCaptcha:
    def __init__(
        self,
        provider: str,
        secret: str,
        verify_url: str | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> None:
        if provider not in VERIFY_URLS:
            raise ValueError(f"unknown CAPTCHA provider {provider!r}")
        self.provider = provider
        self.url = verify_url or VERIFY_URLS[provider]
        self._secret = secret
        self._session = session or requests.Session()
        self._timeout = timeout

    def verify(self, token: str | None, remote_ip: str) -> None:
        if not token or not token.strip() or len(token) > MAX_TOKEN_LENGTH:
            raise CaptchaFailedError(
                "Solve the CAPTCHA and send its token as captcha_token.",
                {"field": "captcha_token", "reason": "missing"},
            )
        form = {"secret": self._secret, "response": token.strip()}
        if remote_ip:
            form["remoteip"] = remote_ip
        try:
            response = self._session.post(self.url, data=form, timeout=self._timeout)
            body: Any = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError) as exc:
            raise DependencyUnavailableError("The CAPTCHA could not be checked; try again.") from exc
        if not isinstance(body, dict):
            raise DependencyUnavailableError("The CAPTCHA could not be checked; try again.")
        if body.get("success") is True:
            return
        codes = [str(code) for code in body.get("error-codes") or []]
        if OUR_FAULT.intersection(codes):
            logger.error("captcha provider refused our secret", extra={"provider": self.provider, "codes": codes})
            raise DependencyUnavailableError("The CAPTCHA could not be checked; try again.")
        raise CaptchaFailedError(
            "The CAPTCHA was not solved; try again.", {"field": "captcha_token", "reason": "rejected", "codes": codes}
        )
