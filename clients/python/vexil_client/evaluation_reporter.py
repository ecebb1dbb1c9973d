"""Batched evaluation reports (``POST /sdk/v1/evaluations``), as @vexil/sdk's reporter sends them.

A get only appends to a list (or counts the evaluation as dropped when ``max_queue`` is
reached); a daemon thread sends the list every ``flush_interval`` seconds, in requests
of at most ``batch_size`` (the service takes 1,000), one request at a time. Failed
requests are counted, not retried, so a slow or absent service costs neither memory
nor load.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import VexilClientError
from .evaluation import EvaluationResult
from .service import http_request, request_error, status_error

MAX_REPORTED_EVALUATIONS = 1000


@dataclass(frozen=True)
class ReportStats:
    sent: int
    """Evaluations the service accepted (its 202)."""
    dropped: int
    """Evaluations not queued because the queue was full."""
    failed: int
    """Evaluations whose request failed (not retried)."""
    queued: int
    """Evaluations waiting to be sent."""


def format_wtime(seconds: float) -> str:
    """A time as a WTIME: UTC ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    whole = int(seconds)
    micros = int(round((seconds - whole) * 1_000_000))
    if micros == 1_000_000:
        whole, micros = whole + 1, 0
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole)) + f".{micros:06d}"


class EvaluationReporter:
    def __init__(
        self,
        *,
        url: str,
        project: str,
        headers: dict[str, str],
        timeout: float,
        on_error: Callable[[VexilClientError], None],
        flush_interval: float = 1.0,
        batch_size: int = MAX_REPORTED_EVALUATIONS,
        max_queue: int = 10_000,
    ) -> None:
        self._url = url
        self._project = project
        self._headers = {"Content-Type": "application/json", **headers}
        self._timeout = timeout
        self._on_error = on_error
        self._interval = max(0.001, flush_interval)
        self._batch_size = min(MAX_REPORTED_EVALUATIONS, max(1, int(batch_size)))
        self._capacity = max(1, int(max_queue))
        self._queue: list[tuple[str, str, str, str, EvaluationResult, float]] = []
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._sent = self._dropped = self._failed = 0
        self._thread = threading.Thread(target=self._run, name=f"vexil-reports-{project}", daemon=True)
        self._thread.start()

    def add(self, flag_type: str, flag_name: str, revision: str, instance_id: str, result: EvaluationResult) -> None:
        """Queues one evaluation (the hot path); ``instance_id`` '' for a context without a targeting key."""
        entry = (flag_type, flag_name, revision, instance_id, result, time.time())
        with self._lock:
            if len(self._queue) >= self._capacity:
                self._dropped += 1
                return
            self._queue.append(entry)

    @property
    def stats(self) -> ReportStats:
        return ReportStats(self._sent, self._dropped, self._failed, len(self._queue))

    def flush(self) -> None:
        """Sends everything queued; returns when its requests have ended (well or not)."""
        with self._send_lock:
            with self._lock:
                queued, self._queue = self._queue, []
            unreachable = False
            for start in range(0, len(queued), self._batch_size):
                batch = queued[start : start + self._batch_size]
                if unreachable:
                    # The service did not answer the batch before: the rest would fail the same way.
                    self._failed += len(batch)
                    continue
                unreachable = not self._send(batch)

    def close(self) -> None:
        """Stops the thread and sends what is queued."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(self._timeout + 1)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - reporting must never end the thread
                pass

    def _send(self, batch: list[tuple[str, str, str, str, EvaluationResult, float]]) -> bool:
        """One request; False when the service could not be reached."""
        evaluations: list[dict[str, Any]] = []
        for flag_type, flag_name, revision, instance_id, result, at in batch:
            entry: dict[str, Any] = {"flagType": flag_type, "flagName": flag_name}
            if revision:
                entry["revision"] = revision
            if instance_id:
                entry["instanceId"] = instance_id
            entry.update(value=result.value, group=result.group, time=format_wtime(at))
            evaluations.append(entry)
        body = json.dumps({"project": self._project, "evaluations": evaluations}, separators=(",", ":")).encode()
        what = f"reporting {len(batch)} evaluations"
        try:
            response = http_request("POST", self._url, self._headers, self._timeout, body)
        except Exception as error:  # noqa: BLE001
            self._failed += len(batch)
            self._on_error(request_error(error, "report", what, self._timeout))
            return False
        if 200 <= response.status < 300:
            self._sent += len(batch)
        else:
            self._failed += len(batch)
            self._on_error(status_error(response, "report", what))
        return True
