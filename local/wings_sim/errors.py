"""Wings' error bodies (wings-contract.md §2.1): ``{"error"}`` for explicit aborts, plus ``request_id``
for anything routed through its error capturer."""

from __future__ import annotations

GENERIC = "An unexpected error was encountered while processing this request"
NOT_AUTHENTICATED = "The required authorization heads were not present in the request."
FORBIDDEN = "You are not authorized to access this endpoint."
NO_SERVER = "The requested resource does not exist on this instance."
NOT_FOUND_FS = "The requested resources was not found on the system."
UNPARSABLE = "The data passed in the request was not in a parsable format. Please try again."
INVALID = "The data provided in the request could not be validated."
SIGNED_NOT_FOUND = "The requested resource was not found on this server."
DENYLIST = "This file cannot be modified: present in egg denylist."
IS_DIRECTORY = "Cannot perform that action: file is a directory."


class WingsError(Exception):
    """An error reply: HTTP status, message, and whether the body carries ``request_id``."""

    def __init__(self, status: int, message: str, with_request_id: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.with_request_id = with_request_id


def abort(status: int, message: str) -> WingsError:
    return WingsError(status, message, with_request_id=False)


def captured(status: int, message: str = GENERIC) -> WingsError:
    return WingsError(status, message, with_request_id=True)
