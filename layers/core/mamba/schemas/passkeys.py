"""Requests and responses of the passkey routes (/v1/me/passkeys, /v1/auth/passkeys/...)."""

from typing import Any

from pydantic import Field

from mamba.domain.passkeys import MAX_NAME_LENGTH
from mamba.schemas.common import Schema

ChallengeId = Field(min_length=4, max_length=64, pattern=r"^wac_[A-Za-z0-9_-]+$")


class CeremonyOut(Schema):
    challenge_id: str = Field(description="Send it back with the authenticator's answer; valid 5 minutes, once.")
    public_key: dict[str, Any] = Field(
        description="The options for navigator.credentials.create/get in their JSON form "
        "(PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON)."
    )


class PasskeyAnswerIn(Schema):
    challenge_id: str = ChallengeId
    credential: dict[str, Any] = Field(
        description="The PublicKeyCredential as its toJSON() gives it (id, rawId, type, response)."
    )


class PasskeyRegisterIn(PasskeyAnswerIn):
    name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH, examples=["Laptop"])


class PasskeyRenameIn(Schema):
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, examples=["Phone"])


class PasskeyOut(Schema):
    id: str
    name: str
    created_at: str
    last_used_at: str | None = None
    backup_eligible: bool = Field(description="A synced passkey (it can be backed up to the user's cloud account).")
    backed_up: bool = Field(description="The last sign-in reported it backed up.")
    transports: list[str]
    aaguid: str | None = Field(default=None, description="The authenticator model, when it tells.")


class PasskeyList(Schema):
    items: list[PasskeyOut]
    next_cursor: str | None = None
