"""The change stream as the SDK protocol has it: resume with the version held, reconnect when silent or out of step."""

from __future__ import annotations

import json
import os
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support import wait_until
from vexil_client import FeatureFlagClient
from vexil_client.local_flags import LocalFlags
from vexil_client.sse import EventParser

WTIME = "2026-12-07 10:00:00.000000"


def flag(name: str, value: bool, wtime: str = WTIME) -> dict[str, Any]:
    revision = {"Name": name, "Type": "FEATURE", "FormatVersion": 1, "ControlValue": value, "Treatments": []}
    return {"name": name, "flagType": "feature", "wtime": wtime, "revision": revision}


def version_of(flags: list[dict[str, Any]]) -> str:
    local = LocalFlags("p")
    local.apply_snapshot(flags)
    assert local.version is not None
    return local.version


class StreamStub:
    """Serves /sdk/v1/projects/p/stream: each connection plays the next script, then holds the stream open silently."""

    def __init__(self, scripts: list[list[tuple[str, Any]]]) -> None:
        self.last_event_ids: list[str | None] = []
        self.connected_at: list[float] = []
        self.release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                if not self.path.startswith("/sdk/v1/projects/p/stream"):
                    self.send_error(404)
                    return
                stub.last_event_ids.append(self.headers.get("Last-Event-ID"))
                stub.connected_at.append(time.monotonic())
                script = scripts[min(len(stub.last_event_ids), len(scripts)) - 1]
                if script and script[0][0] == "status":
                    status, retry_after = script[0][1]
                    body = json.dumps({"error": "TooManyStreams", "status": status, "message": "too many streams"}).encode()
                    self.send_response(status)
                    self.send_header("Retry-After", str(retry_after))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for event, data in script:
                        self._chunk(f": keep-alive\r\n\r\nevent: {event}\r\ndata: {json.dumps(data)}\r\n\r\n")
                    stub.release.wait(30)
                    self._chunk("")
                except OSError:
                    pass

            def _chunk(self, text: str) -> None:
                data = text.encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class ChangeStream(unittest.TestCase):
    def client(self, stub: StreamStub) -> FeatureFlagClient:
        client = FeatureFlagClient(
            "p",
            stub.url,
            local_evaluation=True,
            report_evaluations=False,
            reconnect_delay=0.05,
            stream_idle_timeout=0.5,
        )
        self.addCleanup(client.close)
        return client

    def test_a_silent_stream_is_reconnected_resuming_from_the_version_held(self) -> None:
        flags = [flag("a", True)]
        snapshot = {"project": "p", "version": version_of(flags), "flags": flags}
        stub = StreamStub([[("snapshot", snapshot)], [("ready", {"version": snapshot["version"]})]])
        self.addCleanup(stub.stop)
        # Clients are made inside assertLogs here: their thread may log at once.
        with self.assertLogs("vexil_client", "WARNING") as logs:
            client = self.client(stub)
            self.assertTrue(client.ready())
            self.assertIs(client.get_flag_boolean("a", "A1", False), True)
            self.assertTrue(wait_until(lambda: len(stub.last_event_ids) >= 2, timeout=5))
        self.assertEqual(stub.last_event_ids[:2], [None, snapshot["version"]])
        self.assertIn("nothing received for 0.5 s", logs.output[0])

    def test_a_change_is_applied_and_a_missed_one_brings_a_resync_from_the_version_really_held(self) -> None:
        flags = [flag("a", False), flag("b", False)]
        snapshot = {"project": "p", "version": version_of(flags), "flags": flags}
        changed_a = flag("a", True, "2026-12-07 10:00:01.000000")
        good = {**changed_a, "project": "p", "version": version_of([changed_a, flags[1]])}
        changed_b = flag("b", True, "2026-12-07 10:00:02.000000")
        # The version after a change of b that the client never saw (a third flag): out of step.
        bad = {**changed_b, "project": "p", "version": version_of([changed_a, changed_b, flag("c", True)])}
        stub = StreamStub([[("snapshot", snapshot), ("change", good), ("change", bad)], []])
        self.addCleanup(stub.stop)
        with self.assertLogs("vexil_client", "WARNING") as logs:
            client = self.client(stub)
            self.assertTrue(wait_until(lambda: len(stub.last_event_ids) >= 2, timeout=5))
        self.assertIs(client.get_flag_boolean("a", "A1", False), True)
        self.assertIs(client.get_flag_boolean("b", "A1", False), True)
        held = version_of([changed_a, changed_b])
        self.assertEqual(client.version, held)
        self.assertEqual(stub.last_event_ids[1], held)
        self.assertIn("a change was missed", logs.output[0])


class RetryAfter(unittest.TestCase):
    def test_a_429_with_retry_after_is_waited_out_before_reconnecting(self) -> None:
        flags = [flag("a", True)]
        snapshot = {"project": "p", "version": version_of(flags), "flags": flags}
        stub = StreamStub([[("status", (429, 2))], [("snapshot", snapshot)]])
        self.addCleanup(stub.stop)
        with self.assertLogs("vexil_client", "WARNING") as logs:
            client = FeatureFlagClient("p", stub.url, local_evaluation=True, report_evaluations=False, reconnect_delay=0.05)
            self.addCleanup(client.close)
            self.assertTrue(client.ready(timeout=10))
        gap = stub.connected_at[1] - stub.connected_at[0]
        print(f"\nreconnect after 429 Retry-After: 2 came {gap:.2f} s later")
        # Sooner than Retry-After would break the protocol; the backoff alone would have been 0.05 s.
        self.assertGreaterEqual(gap, 2.0)
        self.assertIn("429", logs.output[0])


@unittest.skipUnless(hasattr(os, "fork"), "needs os.fork")
class AfterFork(unittest.TestCase):
    def test_a_forked_child_follows_the_stream_on_its_own_threads_keeping_the_flags_held(self) -> None:
        flags = [flag("a", True)]
        snapshot = {"project": "p", "version": version_of(flags), "flags": flags}
        stub = StreamStub([[("snapshot", snapshot)], [("ready", {"version": snapshot["version"]})]])
        self.addCleanup(stub.stop)
        client = FeatureFlagClient("p", stub.url, local_evaluation=True, report_evaluations=False)
        self.addCleanup(client.close)
        self.assertTrue(client.ready())
        pid = os.fork()
        if pid == 0:  # the child: report through the exit status only
            sync = client._sync
            ok = client.get_flag_boolean("a", "A1", False) is True and sync is not None and sync._thread.is_alive()
            # Its stream request is sent once its socket is set.
            ok = ok and wait_until(lambda: sync._socket is not None, timeout=5)
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        # The child connected with the version it held (the parent's stream is still the first).
        self.assertTrue(wait_until(lambda: len(stub.last_event_ids) >= 2, timeout=5))
        self.assertEqual(stub.last_event_ids[1], snapshot["version"])
        self.assertIs(client.get_flag_boolean("a", "A1", False), True)


class EventStreamFormat(unittest.TestCase):
    def test_lines_fields_comments_and_multi_line_data(self) -> None:
        parser = EventParser()
        lines = [": keep-alive\r\n", "\r\n", "event: change\r\n", "id: v2\n", "data: {\"a\":\n", "data:1}\n", "\n"]
        events = [e for e in (parser.feed_line(line) for line in lines) if e is not None]
        self.assertEqual(len(events), 1)
        self.assertEqual((events[0].event, events[0].id, events[0].data), ("change", "v2", '{"a":\n1}'))


if __name__ == "__main__":
    unittest.main()
