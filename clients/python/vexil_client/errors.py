"""Why a client answered a default (or a last known value) instead of a fresh value."""

from __future__ import annotations

import time

FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
"""No flag of that name and type in the project, it is archived, or the service answered 404."""
TYPE_MISMATCH = "TYPE_MISMATCH"
"""The flag exists with another type (get_flag_boolean reads feature flags, get_flag_string data flags, ...)."""
TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"
"""A context without targetingKey for a flag whose override lists or percentages need one."""
PARSE_ERROR = "PARSE_ERROR"
"""A revision that does not validate, or an answer or snapshot that cannot be read."""
INVALID_ARGUMENT = "INVALID_ARGUMENT"
"""An instance id that is not a string of 1 to 1,000 characters, or another bad argument."""
NOT_READY = "NOT_READY"
"""Local evaluation has no flag data yet."""
PROJECT_NOT_FOUND = "PROJECT_NOT_FOUND"
"""The service has no such project (the message names the known ones)."""
UNAVAILABLE = "UNAVAILABLE"
"""The service cannot be reached, or the connection was lost."""
TIMEOUT = "TIMEOUT"
"""The service did not answer within the client's timeout."""
HTTP_ERROR = "HTTP_ERROR"
"""The service answered an error status (``status``), e.g. 500 or 503."""
CLOSED = "CLOSED"
"""The client was closed."""


class VexilClientError(Exception):
    """A problem a client met and recorded (``client.last_error`` and one log line).

    Gets never raise it: they answer the default or the last known value.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        operation: str,
        flag_name: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        #: what the client was doing: evaluate, get-feature-flag, stream, snapshot or report
        self.operation = operation
        self.flag_name = flag_name
        #: the HTTP status the service answered, if it answered
        self.status = status
        #: when it happened (time.time())
        self.at = time.time()

    def __repr__(self) -> str:
        return f"VexilClientError({self.code}, {self.message!r})"
