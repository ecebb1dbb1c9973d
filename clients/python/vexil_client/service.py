"""Talking to the Vexil service: its address, the request headers, requests and their errors."""

from __future__ import annotations

import json
import os
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from . import errors
from .errors import VexilClientError

SERVICE_URL_VARIABLE = "VEXIL_URL"
"""The environment variable the clients read the service's address from when base_url is not given."""

USER_AGENT = "vexil-client-python/0.1.0"

_PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}", re.ASCII)

GETTERS = {
    "feature": "get_flag_boolean",
    "data": "get_flag_string",
    "number": "get_flag_number",
    "json": "get_flag_json",
}


def check_project_name(name: Any) -> str:
    if not isinstance(name, str) or _PROJECT_NAME.fullmatch(name) is None:
        raise ValueError(
            f"project_name must be 1 to 200 letters, digits, '-', '_' or '.', starting with a letter or digit; got {name!r}"
        )
    return name


def service_url(base_url: str | None, client: str) -> str:
    """The base_url argument, else VEXIL_URL, without trailing slashes; raises ValueError when neither is set."""
    url = base_url if base_url is not None else os.environ.get(SERVICE_URL_VARIABLE)
    if url is None or url == "":
        raise ValueError(
            f"{client} needs the Vexil service: pass base_url (e.g. http://localhost:8080) or set {SERVICE_URL_VARIABLE}"
        )
    return url.rstrip("/")


def request_headers(headers: dict[str, str] | None, token: str | None) -> dict[str, str]:
    """The headers of every request: ``headers``, with ``token`` as Authorization: Bearer (a given authorization wins)."""
    result = {"User-Agent": USER_AGENT}
    result.update(headers or {})
    if token and not any(name.lower() == "authorization" for name in result):
        result["Authorization"] = f"Bearer {token}"
    return result


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]


_opener = urllib.request.build_opener()


def http_request(
    method: str, url: str, headers: dict[str, str], timeout: float, body: bytes | None = None
) -> Response:
    """One request with urllib (proxies from the environment apply); any status is a Response.

    ``timeout`` bounds connecting and each read, as the runbook client's HTTP timeout did.
    Network failures raise (urllib.error.URLError, OSError, TimeoutError).
    """
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with _opener.open(request, timeout=timeout) as answer:
            return Response(answer.status, answer.read(), {k.lower(): v for k, v in answer.headers.items()})
    except urllib.error.HTTPError as answer:
        try:
            data = answer.read()
        except OSError:
            data = b""
        return Response(answer.code, data, {k.lower(): v for k, v in (answer.headers or {}).items()})


def _is_timeout(error: BaseException) -> bool:
    if isinstance(error, (socket.timeout, TimeoutError)):
        return True
    reason = getattr(error, "reason", None)
    return isinstance(reason, (socket.timeout, TimeoutError))


def request_error(
    error: BaseException, operation: str, what: str, timeout: float, flag_name: str | None = None
) -> VexilClientError:
    """A failed request (network error or timeout) as a client error."""
    if isinstance(error, VexilClientError):
        return error
    if _is_timeout(error):
        return VexilClientError(
            errors.TIMEOUT, f"{what}: no answer within {timeout:g} s", operation=operation, flag_name=flag_name
        )
    reason = getattr(error, "reason", None) or error
    return VexilClientError(
        errors.UNAVAILABLE,
        f"{what}: the service cannot be reached ({reason})",
        operation=operation,
        flag_name=flag_name,
    )


def type_mismatch_message(flag_name: str, asked: str, actual: str) -> str:
    """Both modes' wording for a flag read by a type it does not have (the service's, with the Python getter)."""
    return f"flag {flag_name} is a {actual} flag, not a {asked} flag: read it with {GETTERS.get(actual, 'no getter')}"


def project_not_found_message(project: str, known: list[str], where: str) -> str:
    listed = ", ".join(known) if known else "none"
    return f"project {project} does not exist {where}; known projects: {listed}"


def status_error(
    response: Response,
    operation: str,
    what: str,
    *,
    flag_name: str | None = None,
    project: str | None = None,
    base_url: str | None = None,
    flag_type: str | None = None,
) -> VexilClientError:
    """An error status as a client error, with the message of the service's JSON error body."""
    message = ""
    body: Any = None
    try:
        body = json.loads(response.body)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]
    except ValueError:
        message = response.body[:200].decode("utf-8", "replace")
    status = response.status
    if status == 404 and isinstance(body, dict) and project is not None:
        if body.get("error") == "ProjectNotFound":
            known = [p for p in body.get("known_projects", []) if isinstance(p, str)]
            return VexilClientError(
                errors.PROJECT_NOT_FOUND,
                project_not_found_message(project, known, f"on {base_url}"),
                operation=operation,
                flag_name=flag_name,
                status=status,
            )
        if body.get("field") == "flag_type" and flag_type is not None and flag_name is not None:
            actual = next(
                (
                    t
                    for t in GETTERS
                    if t != flag_type and message.endswith(f"flag {flag_name} is a {t} flag, not a {flag_type} flag")
                ),
                None,
            )
            return VexilClientError(
                errors.TYPE_MISMATCH,
                message if actual is None else type_mismatch_message(flag_name, flag_type, actual),
                operation=operation,
                flag_name=flag_name,
                status=status,
            )
    code = (
        errors.FLAG_NOT_FOUND
        if status == 404
        else errors.INVALID_ARGUMENT
        if status in (400, 422)
        else errors.HTTP_ERROR
    )
    detail = f" ({message})" if message else ""
    return VexilClientError(
        code, f"{what}: the service answered {status}{detail}", operation=operation, flag_name=flag_name, status=status
    )
