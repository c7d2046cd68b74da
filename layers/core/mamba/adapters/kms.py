"""KMS: reversible encryption of node tokens.

A node token is the HMAC key of every Wings JWT and half of the credential Wings presents,
so the panel must read it back (a hash would not do). Each token is encrypted directly
with the panel's KMS key (tokens are 64 bytes, far under KMS's 4 KiB limit), bound to its
node by an encryption context: a ciphertext copied onto another node does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mamba.domain.errors import DependencyUnavailableError

# Decrypted tokens kept per container, keyed by ciphertext: a rotated token has a new
# ciphertext, so the cache can never serve a stale token. Bounded so it cannot grow forever.
_CACHE_LIMIT = 512


class KmsTokenCipher:
    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self._key_id = key_id
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
        self._lock = threading.Lock()

    def encrypt(self, plaintext: str, context: dict[str, str]) -> str:
        """Return the base64 ciphertext of ``plaintext`` bound to ``context``."""
        try:
            answer = self._client.encrypt(KeyId=self._key_id, Plaintext=plaintext.encode(), EncryptionContext=context)
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailableError("The token could not be encrypted; try again.") from exc
        return base64.b64encode(answer["CiphertextBlob"]).decode()

    def decrypt(self, ciphertext: str, context: dict[str, str]) -> str:
        """Return the plaintext of a ``encrypt`` result; the context must be the same."""
        cache_key = (ciphertext, tuple(sorted(context.items())))
        with self._lock:
            cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        try:
            blob = base64.b64decode(ciphertext, validate=True)
            answer = self._client.decrypt(CiphertextBlob=blob, EncryptionContext=context)
        except (binascii.Error, ValueError) as exc:
            raise DependencyUnavailableError("A stored token is not valid ciphertext.") from exc
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailableError("The token could not be decrypted; try again.") from exc
        plaintext = bytes(answer["Plaintext"]).decode()
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[cache_key] = plaintext
        return plaintext
