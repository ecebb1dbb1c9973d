"""The runbook client's way of reading a flag: ask the service's /get-feature-flag, with a TTL cache."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import errors
from .errors import VexilClientError
from .evaluation.compiled import value_of_type
from .service import http_request, request_error, status_error
from .ttl_cache import TtlCache

_HOLDS = {
    "feature": "true or false",
    "data": "a string",
    "number": "a number",
    "json": "a JSON object or array",
}


@dataclass
class Outcome:
    """A request's outcome: the value (None: the revision gives none, the caller's default), or why not."""

    value: Any = None
    error: VexilClientError | None = None
    #: the service's word on this flag (404, 400): no last known value is answered instead
    authoritative: bool = False


class RemoteFlags:
    """Requests to /get-feature-flag and the cache of their answers (keyed by flag type, name and instance id)."""

    def __init__(
        self,
        project: str,
        base_url: str,
        headers: dict[str, str],
        timeout: float,
        cache_size: int,
        cache_ttl: float,
        clock: Callable[[], float],
    ) -> None:
        self.project = project
        self.base_url = base_url
        self.url = f"{base_url}/get-feature-flag"
        self.headers = {"Accept": "application/json", **headers}
        self.timeout = timeout
        self.cache = TtlCache(cache_size, cache_ttl, clock)

    @staticmethod
    def key(flag_type: str, flag_name: str, instance_id: str) -> str:
        return f"{flag_type}\n{flag_name}\n{instance_id}"

    def fetch(self, flag_type: str, flag_name: str, instance_id: str) -> Outcome:
        """One blocking request; a value it gives is cached. Never raises."""
        what = f"{flag_type} flag {flag_name} of project {self.project}"
        query = urllib.parse.urlencode(
            {
                "project_name": self.project,
                "instance_id": instance_id,
                "flag_type": flag_type,
                "flag_name": flag_name,
            }
        )
        key = self.key(flag_type, flag_name, instance_id)
        try:
            response = http_request("GET", f"{self.url}?{query}", self.headers, self.timeout)
        except Exception as error:  # noqa: BLE001 - every failure is an outcome, never an exception
            return Outcome(error=request_error(error, "get-feature-flag", what, self.timeout, flag_name))
        if response.status != 200:
            error = status_error(
                response,
                "get-feature-flag",
                what,
                flag_name=flag_name,
                project=self.project,
                base_url=self.base_url,
                flag_type=flag_type,
            )
            # 4xx: the service's word on this flag (it does not exist, the request is wrong); 5xx: a failure.
            authoritative = 400 <= response.status < 500 and response.status not in (408, 429)
            if authoritative:
                self.cache.delete(key)
            return Outcome(error=error, authoritative=authoritative)
        try:
            body = json.loads(response.body)
            value = body["flag_value"]
        except (ValueError, KeyError, TypeError) as cause:
            return Outcome(error=_unreadable(what, flag_name, f"no flag_value in the answer ({cause})"))
        if value is not None and not value_of_type(value, flag_type):
            return Outcome(
                error=_unreadable(
                    what, flag_name, f"flag_value is {value!r}, but a {flag_type} flag holds {_HOLDS[flag_type]}"
                )
            )
        self.cache.set(key, value)
        return Outcome(value=value)


def _unreadable(what: str, flag_name: str, cause: str) -> VexilClientError:
    return VexilClientError(
        errors.PARSE_ERROR,
        f"{what}: the answer cannot be read ({cause})",
        operation="get-feature-flag",
        flag_name=flag_name,
    )
