"""What the tests share: the Vexil service they run against, its admin API, and stub servers.

Tests that need a service read VEXIL_URL and VEXIL_TEST_ADMIN_TOKEN (npm test's
clients/python/test/python-client.test.ts starts `vexil serve` and sets both); without
them they are skipped, unless VEXIL_TEST_REQUIRE_SERVICE=1 makes that a failure.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIXTURES = ROOT.parent.parent / "packages" / "core" / "test" / "fixtures"

SERVICE_URL = os.environ.get("VEXIL_URL", "").rstrip("/")
ADMIN_TOKEN = os.environ.get("VEXIL_TEST_ADMIN_TOKEN", "")


def needs_service(cls: type) -> type:
    """Runs a TestCase only against a service (VEXIL_URL and VEXIL_TEST_ADMIN_TOKEN)."""
    if SERVICE_URL and ADMIN_TOKEN:
        return cls
    if os.environ.get("VEXIL_TEST_REQUIRE_SERVICE") == "1":
        raise RuntimeError("VEXIL_URL and VEXIL_TEST_ADMIN_TOKEN must be set (VEXIL_TEST_REQUIRE_SERVICE=1)")
    return unittest.skip("no Vexil service: set VEXIL_URL and VEXIL_TEST_ADMIN_TOKEN")(cls)


def admin(method: str, path: str, body: Any = None) -> Any:
    """A call to the service's admin API with the admin token; raises on an error status, with its body."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{SERVICE_URL}/admin/v1{path}",
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{method} {path} answered {error.code}: {error.read().decode()}") from None


def new_project(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def add_flag(project: str, flag_type: str, name: str, revision: dict[str, Any]) -> dict[str, Any]:
    admin("POST", f"/projects/{project}/flags", {"name": name, "type": flag_type, "description": f"test flag {name}"})
    return add_revision(project, flag_type, name, revision)


def add_revision(project: str, flag_type: str, name: str, revision: dict[str, Any]) -> dict[str, Any]:
    return admin("POST", f"/projects/{project}/flags/{flag_type}/{name}/revisions", revision)  # type: ignore[no-any-return]


def read_token(project: str) -> str:
    answer = admin("POST", "/tokens", {"scope": "read", "projects": [project], "owner": "python-client-tests"})
    return answer["secret"]  # type: ignore[no-any-return]


def evaluation_log(project: str, flag_type: str, flag_name: str) -> list[dict[str, Any]]:
    answer = admin("GET", f"/projects/{project}/log?flag_type={flag_type}&flag_name={flag_name}&limit=1000")
    return answer["entries"]  # type: ignore[no-any-return]


RUNBOOK_FLAGS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "feature",
        "multi_step_api_router",
        {
            "ControlValue": False,
            "Treatments": [{"OverrideList": ["A12345"], "PercentRollout": 40, "Value": True}],
            "Comment": "Rollout to 40%",
        },
    ),
    (
        "data",
        "llm_provider",
        {
            "ControlValue": "openai",
            "Treatments": [
                {"OverrideList": ["A123456"], "PercentRollout": 20, "Value": "claude"},
                {"OverrideList": [], "PercentRollout": 5.5, "Value": "llama-3"},
            ],
        },
    ),
    (
        "number",
        "discount.rate",
        {
            "ControlValue": 0.1,
            "Treatments": [{"OverrideList": ["vip-1"], "PercentRollout": 30, "Value": 25}],
            "Rules": [{"Conditions": [{"Attribute": "plan", "Operator": "equals", "Values": ["pro"]}], "Value": 0.2}],
        },
    ),
    (
        "json",
        "checkout-layout",
        {
            "ControlValue": {"columns": 1, "steps": ["cart", "pay"]},
            "Treatments": [{"OverrideList": ["A123456"], "PercentRollout": 50, "Value": [1, {"columns": 3}]}],
        },
    ),
    ("data", "no_value", {"ControlValue": None, "Treatments": []}),
]


def seed_runbook_project(prefix: str) -> tuple[str, str]:
    """A new project with RUNBOOK_FLAGS, and a read token for it."""
    project = new_project(prefix)
    for flag_type, name, revision in RUNBOOK_FLAGS:
        add_flag(project, flag_type, name, revision)
    return project, read_token(project)


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


class StubService:
    """A local HTTP server answering /get-feature-flag as told: counts requests, can stall.

    ``answer(query) -> (status, body)`` decides each answer; ``delay`` seconds pass first
    (waiting on ``release``, which stop() sets, so no handler outlives its test).
    """

    def __init__(self, answer: Callable[[dict[str, str]], tuple[int, Any]], delay: float = 0.0) -> None:
        self.requests: list[dict[str, str]] = []
        self.answered = threading.Event()
        self.release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                from urllib.parse import parse_qsl, urlsplit

                query = dict(parse_qsl(urlsplit(self.path).query))
                stub.requests.append(query)
                if delay > 0:
                    stub.release.wait(delay)
                status, body = answer(query)
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    stub.answered.set()
                except OSError:
                    pass  # the client gave up and closed the connection

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def flag_answer(value: Any, group: str = "control") -> Callable[[dict[str, str]], tuple[int, Any]]:
    def answer(query: dict[str, str]) -> tuple[int, Any]:
        return 200, {
            "request_id": "r",
            "instance_id": query.get("instance_id"),
            "flag_type": query.get("flag_type"),
            "flag_name": query.get("flag_name"),
            "flag_value": value,
            "rollout_group": group,
        }

    return answer


def closed_port_url() -> str:
    """The URL of a port nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
