"""Keeps a local-evaluation client's snapshot current (docs/sdk-protocol.md).

A daemon thread holds the change stream open (``GET /sdk/v1/projects/{p}/stream``),
resuming with ``Last-Event-ID`` set to the version of what the client holds (computed
from its flags, so a missed change shows and a full snapshot follows). A lost stream
is reconnected after 0.5 s, doubling to 30 s while it fails, with jitter; a stream
silent for 45 s (three keep-alives) is taken as lost. After each failed connect the
snapshot is polled once with If-None-Match, so a proxy that does not pass server-sent
events only slows updates down. The stream uses http.client directly (not urllib) so
its socket's read timeout can be the idle timeout and ``close()`` can shut it.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from . import errors
from .errors import VexilClientError
from .local_flags import LocalFlags, check_flag, parse_snapshot
from .service import Response, http_request, request_error, status_error
from .sse import Event, EventParser


def backoff(failures: int, initial: float, maximum: float) -> float:
    """The delay before reconnect attempt ``failures`` (0 after a healthy stream): exponential, jitter on its upper half."""
    ceiling = min(maximum, initial * 2 ** min(max(failures - 1, 0), 30))
    return ceiling / 2 + random.random() * ceiling / 2


def _seconds(header: str | None) -> float:
    """A Retry-After in seconds (the service sends whole seconds; an HTTP date counts as none)."""
    try:
        return min(max(float(header), 0.0), 3600.0) if header else 0.0
    except ValueError:
        return 0.0


class SnapshotSync:
    def __init__(
        self,
        *,
        base_url: str,
        project: str,
        headers: dict[str, str],
        flags: LocalFlags,
        timeout: float,
        streaming: bool,
        poll_interval: float,
        reconnect_delay: float,
        max_reconnect_delay: float,
        stream_idle_timeout: float,
        on_error: Callable[[VexilClientError], None],
        on_sync: Callable[[], None],
        on_change: Callable[[list[str]], None],
    ) -> None:
        self._base_url = base_url
        self._project = project
        path = f"/sdk/v1/projects/{urllib.parse.quote(project, safe='')}"
        self._snapshot_url = f"{base_url}{path}/snapshot"
        self._stream_url = f"{base_url}{path}/stream"
        self._headers = headers
        self._flags = flags
        self._timeout = timeout
        self._streaming = streaming
        self._poll_interval = poll_interval
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._idle_timeout = stream_idle_timeout
        self._on_error = on_error
        self._on_sync = on_sync
        self._on_change = on_change
        self._closed = threading.Event()
        # The stream's socket, taken before getresponse() (which may let the connection drop it).
        self._socket: socket.socket | None = None
        self._retry_after = 0.0
        self._thread = threading.Thread(target=self._run, name=f"vexil-sync-{project}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self._closed.set()
        sock = self._socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def abandon_after_fork(self) -> None:
        """In a forked child: closes this process's copy of the parent's stream socket.

        Not shut down — that would end the parent's stream too; closing the copy only
        lets the connection end when the parent closes it.
        """
        self._closed.set()
        sock = self._socket
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    # ------------------------------------------------------------ the loop

    def _run(self) -> None:
        failures = 0
        while not self._closed.is_set():
            if not self._streaming:
                self.poll()
                self._closed.wait(self._poll_interval)
                continue
            synced, error = self._stream_once()
            if self._closed.is_set():
                break
            if error is not None:
                self._on_error(error)
            if synced:
                # A stream that was in sync ended (the service stopped, a proxy cut it): reconnect soon.
                failures = 0
            else:
                failures += 1
                self.poll()
            delay = backoff(failures, self._reconnect_delay, self._max_reconnect_delay)
            delay, self._retry_after = max(delay, self._retry_after), 0.0
            self._closed.wait(delay)

    def _stream_once(self) -> tuple[bool, VexilClientError | None]:
        """One connection: (whether it got in sync, what went wrong)."""
        what = f"change stream of project {self._project}"
        url = urllib.parse.urlsplit(self._stream_url)
        factory = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        connection = factory(url.hostname or "localhost", url.port, timeout=self._timeout)
        headers = {"Accept": "text/event-stream", **self._headers}
        if self._flags.version is not None:
            headers["Last-Event-ID"] = self._flags.version
        synced = False
        try:
            target = url.path + (f"?{url.query}" if url.query else "")
            connection.request("GET", target, headers=headers)
            sock = connection.sock
            self._socket = sock
            if self._closed.is_set():
                return False, None
            response = connection.getresponse()
            if response.status != 200:
                answer = Response(response.status, response.read(), {})
                # 429 / 503 with Retry-After (too many streams): wait at least that long before reconnecting.
                self._retry_after = _seconds(response.getheader("retry-after"))
                return False, status_error(answer, "stream", what, project=self._project, base_url=self._base_url)
            content_type = response.getheader("content-type", "")
            if not content_type.startswith("text/event-stream"):
                return False, VexilClientError(
                    errors.PARSE_ERROR,
                    f"{what}: the answer is {content_type or 'not typed'}, not text/event-stream (a proxy in the way?)",
                    operation="stream",
                )
            if sock is not None:
                # Connected: from now on the read timeout is the idle timeout (keep-alives come every 15 s).
                sock.settimeout(self._idle_timeout)
            parser = EventParser()
            while not self._closed.is_set():
                raw = response.readline()
                if not raw:
                    return synced, VexilClientError(errors.UNAVAILABLE, f"{what} ended; reconnecting", operation="stream")
                event = parser.feed_line(raw.decode("utf-8"))
                if event is None:
                    continue
                outcome = self._on_event(event)
                if outcome is True:
                    synced = True
                elif isinstance(outcome, VexilClientError):
                    return synced, outcome
            return synced, None
        except (socket.timeout, TimeoutError) as error:
            if synced:
                return synced, VexilClientError(
                    errors.UNAVAILABLE,
                    f"{what}: nothing received for {self._idle_timeout:g} s (not even a keep-alive); reconnecting",
                    operation="stream",
                )
            return synced, request_error(error, "stream", what, self._timeout)
        except Exception as error:  # noqa: BLE001 - any failure ends this connection; the loop reconnects
            if self._closed.is_set():
                return synced, None
            if synced:
                return synced, VexilClientError(
                    errors.UNAVAILABLE, f"{what} was lost ({error}); reconnecting", operation="stream"
                )
            return synced, request_error(error, "stream", what, self._timeout)
        finally:
            self._socket = None
            connection.close()

    def _on_event(self, event: Event) -> bool | VexilClientError | None:
        """Applies one event: True once in sync, an error to reconnect on, None otherwise."""
        what = f"change stream of project {self._project}"
        if event.event == "snapshot":
            try:
                flags = parse_snapshot(json.loads(event.data), self._project)
            except ValueError as error:
                return VexilClientError(
                    errors.PARSE_ERROR, f"{what}: the snapshot event cannot be read ({error}); reconnecting", operation="stream"
                )
            self._apply_snapshot(flags)
            return True
        if event.event == "ready":
            self._on_sync()
            return True
        if event.event == "change":
            try:
                update = json.loads(event.data)
                check_flag(update, "change")
                if update.get("project") != self._project or not isinstance(update.get("version"), str):
                    raise ValueError("not a change of this project with its version")
            except ValueError as error:
                return VexilClientError(
                    errors.PARSE_ERROR, f"{what}: a change event cannot be read ({error}); reconnecting", operation="stream"
                )
            in_step = self._flags.apply_change(update, update["version"])
            self._on_change([update["name"]])
            if not in_step:
                # A missed change: reconnect, resuming from the version really held, to get a full snapshot.
                return VexilClientError(
                    errors.PARSE_ERROR,
                    f"{what}: a change did not lead to its version (a change was missed); resynchronizing",
                    operation="stream",
                )
        return None

    def _apply_snapshot(self, flags: list[Mapping[str, Any]]) -> None:
        first = not self._flags.loaded
        changed = self._flags.apply_snapshot(flags)
        self._on_sync()
        if changed and not first:
            self._on_change(changed)

    def poll(self) -> bool:
        """One conditional GET of the snapshot; True when the client is in sync after it."""
        what = f"snapshot of project {self._project}"
        headers = {"Accept": "application/json", **self._headers}
        if self._flags.version is not None:
            headers["If-None-Match"] = f'"{self._flags.version}"'
        try:
            response = http_request("GET", self._snapshot_url, headers, self._timeout)
        except Exception as error:  # noqa: BLE001
            if not self._closed.is_set():
                self._on_error(request_error(error, "snapshot", what, self._timeout))
            return False
        if response.status == 304:
            self._on_sync()
            return True
        if response.status != 200:
            self._on_error(status_error(response, "snapshot", what, project=self._project, base_url=self._base_url))
            return False
        try:
            flags = parse_snapshot(json.loads(response.body), self._project)
        except ValueError as error:
            self._on_error(
                VexilClientError(errors.PARSE_ERROR, f"{what} cannot be read ({error})", operation="snapshot")
            )
            return False
        self._apply_snapshot(flags)
        return True
