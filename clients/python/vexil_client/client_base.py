"""What FeatureFlagClient and AsyncFeatureFlagClient share: options, argument checks,
local evaluation, the remote cache's bookkeeping and the record of problems."""

from __future__ import annotations

import copy
import logging
import os
import threading
import weakref
import time
from collections.abc import Callable, Mapping
from typing import Any, Union

from . import errors
from .errors import VexilClientError
from .evaluation import TargetingKeyMissing
from .evaluation_reporter import EvaluationReporter, ReportStats
from .local_flags import LocalFlags
from .remote_flags import Outcome, RemoteFlags
from .service import check_project_name, request_headers, service_url
from .snapshot_sync import SnapshotSync

logger = logging.getLogger("vexil_client")

MAX_INSTANCE_ID_LENGTH = 1000
#: the same problem is logged at most once per this many seconds (last_error always has the newest)
LOG_REPEAT_INTERVAL = 60.0

Target = Union[str, int, Mapping[str, Any]]
"""An instance id (a number is read as its decimal text, as the runbook service did), or,
with local evaluation, a whole evaluation context: ``{"targetingKey": id, **attributes}``."""

_KINDS = {"feature": "a bool", "data": "a str", "number": "an int or float", "json": "a dict or list"}


def _call(method: weakref.WeakMethod) -> None:  # type: ignore[type-arg]
    bound = method()
    if bound is not None:
        bound()


def value_or_default(value: Any, default: Any) -> Any:
    """A value answered (a JSON object or array as the caller's own copy: the cache keeps its own), or the default for None."""
    if value is None:
        return default
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


class ClientBase:
    def __init__(
        self,
        client: str,
        project_name: str,
        *,
        base_url: str | None,
        timeout: float,
        cache_size: int,
        cache_ttl: float,
        token: str | None,
        headers: dict[str, str] | None,
        local_evaluation: bool,
        report_evaluations: bool | Mapping[str, Any],
        streaming: bool,
        poll_interval: float,
        reconnect_delay: float,
        max_reconnect_delay: float,
        stream_idle_timeout: float,
        clock: Callable[[], float] | None,
    ) -> None:
        self.project_name = check_project_name(project_name)
        self.base_url = service_url(base_url, client)
        self.timeout = timeout
        #: the most recent problem (kept after recovery)
        self.last_error: VexilClientError | None = None
        self._closed = False
        self._logged: dict[tuple[str, str | None, str], float] = {}
        self._headers = request_headers(headers, token)
        self._remote = RemoteFlags(
            self.project_name, self.base_url, self._headers, timeout, cache_size, cache_ttl, clock or time.monotonic
        )
        self._local: LocalFlags | None = None
        self._sync: SnapshotSync | None = None
        self._reporter: EvaluationReporter | None = None
        self._synced = threading.Event()
        self._settled = threading.Event()
        self._change_listeners: list[Callable[[list[str]], None]] = []
        if hasattr(os, "register_at_fork"):
            # A weak reference: a client dropped by its program is not kept alive by the hook.
            method = weakref.WeakMethod(self._after_fork_in_child)
            os.register_at_fork(after_in_child=lambda: _call(method))
        if not local_evaluation:
            return
        self._local = LocalFlags(self.project_name)
        self._report_options: dict[str, Any] | None = None
        if report_evaluations is not False:
            self._report_options = dict(report_evaluations) if isinstance(report_evaluations, Mapping) else {}
        self._sync_options = {
            "streaming": streaming,
            "poll_interval": poll_interval,
            "reconnect_delay": reconnect_delay,
            "max_reconnect_delay": max_reconnect_delay,
            "stream_idle_timeout": stream_idle_timeout,
        }
        self._start_threads()

    def _start_threads(self) -> None:
        assert self._local is not None
        if self._report_options is not None:
            self._reporter = EvaluationReporter(
                url=f"{self.base_url}/sdk/v1/evaluations",
                project=self.project_name,
                headers=self._headers,
                timeout=self.timeout,
                on_error=self._record,
                **self._report_options,
            )
        self._sync = SnapshotSync(
            base_url=self.base_url,
            project=self.project_name,
            headers=self._headers,
            flags=self._local,
            timeout=self.timeout,
            on_error=self._sync_error,
            on_sync=self._on_sync,
            on_change=self._on_change,
            **self._sync_options,
        )
        self._sync.start()

    def _after_fork_in_child(self) -> None:
        """Threads do not survive fork(): a client made before a pre-forking server forks its
        workers (gunicorn --preload, uWSGI) starts its own again in each child, keeping the
        flags it holds. The parent's queued reports stay the parent's."""
        self._remote.cache.reset_lock()
        if self._local is None or self._closed:
            return
        self._local.reset_lock()
        if self._sync is not None:
            self._sync.abandon_after_fork()
        self._start_threads()

    # ------------------------------------------------------------ state

    @property
    def local_evaluation(self) -> bool:
        return self._local is not None

    @property
    def version(self) -> str | None:
        """The version of the snapshot held (local evaluation); None without flag data."""
        return self._local.version if self._local is not None else None

    @property
    def report_stats(self) -> ReportStats | None:
        """Counts of the evaluation reports (None when local evaluation or reporting is off)."""
        return self._reporter.stats if self._reporter is not None else None

    @property
    def cache_size(self) -> int:
        """Values in the remote cache (fresh, or kept to answer when the service fails)."""
        return len(self._remote.cache)

    def clear_cache(self) -> None:
        self._remote.cache.clear()

    def snapshot(self) -> dict[str, Any] | None:
        """The flags held by local evaluation, in the snapshot endpoint's shape; None without."""
        return self._local.snapshot() if self._local is not None else None

    def flag_names(self, flag_type: str | None = None) -> list[str]:
        return self._local.flag_names(flag_type) if self._local is not None else []

    def on_change(self, listener: Callable[[list[str]], None]) -> None:
        """Calls ``listener(names)`` (on the sync thread) when flags held by local evaluation change."""
        self._change_listeners.append(listener)

    def _on_sync(self) -> None:
        self._synced.set()
        self._settled.set()

    def _on_change(self, names: list[str]) -> None:
        for listener in list(self._change_listeners):
            try:
                listener(names)
            except Exception:  # noqa: BLE001 - a listener's failure is its own
                logger.exception("vexil_client: a change listener raised")

    def _sync_error(self, error: VexilClientError) -> None:
        self._record(error)
        if error.code == errors.PROJECT_NOT_FOUND and not self._synced.is_set():
            # Waiting would not help: ready() answers False at once; the sync keeps trying.
            self._settled.set()

    def _record(self, error: VexilClientError) -> None:
        """Sets last_error and logs one line (the same problem at most once a minute)."""
        self.last_error = error
        key = (error.code, error.flag_name, error.message)
        now = time.monotonic()
        last = self._logged.get(key)
        if last is not None and now - last < LOG_REPEAT_INTERVAL:
            return
        if len(self._logged) > 1000:
            self._logged.clear()
        self._logged[key] = now
        logger.warning("%s [%s, project %s]", error.message, error.code, self.project_name)

    # ------------------------------------------------------------ gets

    def _check(self, flag_type: str, flag_name: Any, target: Any) -> tuple[str, Mapping[str, Any] | None]:
        """(instance id, context) of a get — '' for a context without a targeting key; raises VexilClientError."""
        if self._closed:
            raise VexilClientError(errors.CLOSED, "the client is closed", operation="evaluate", flag_name=flag_name)
        if not isinstance(flag_name, str) or flag_name == "":
            raise VexilClientError(
                errors.INVALID_ARGUMENT, f"flag name must be a non-empty string, got {flag_name!r}", operation="evaluate"
            )
        context: Mapping[str, Any] | None = None
        what = "instance id"
        if isinstance(target, Mapping):
            if self._local is None:
                raise VexilClientError(
                    errors.INVALID_ARGUMENT,
                    f"flag {flag_name}: a context needs local_evaluation=True (/get-feature-flag takes an instance id)",
                    operation="evaluate",
                    flag_name=flag_name,
                )
            context = target
            key = target.get("targetingKey")
            what = "the context's targetingKey"
            if key is None or key == "":
                return "", context
        else:
            key = target
        if isinstance(key, int) and not isinstance(key, bool):
            key = str(key)
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_INSTANCE_ID_LENGTH:
            got = f"{len(key)} characters" if isinstance(key, str) and key else repr(key)
            raise VexilClientError(
                errors.INVALID_ARGUMENT,
                f"{what} for flag {flag_name} must be a string of 1 to {MAX_INSTANCE_ID_LENGTH} characters, got {got}",
                operation="evaluate",
                flag_name=flag_name,
            )
        if context is not None and key != context.get("targetingKey"):
            context = {**context, "targetingKey": key}
        return key, context

    def _evaluate_locally(
        self, flag_type: str, flag_name: str, instance_id: str, context: Mapping[str, Any] | None, default: Any
    ) -> tuple[bool, Any]:
        """(answered, value) from the flags held; not answered before the first snapshot (the service answers then)."""
        local = self._local
        if local is None or not local.loaded:
            return False, None
        try:
            outcome = local.evaluate(flag_type, flag_name, context if context is not None else {"targetingKey": instance_id})
        except TargetingKeyMissing:
            self._record(
                VexilClientError(
                    errors.TARGETING_KEY_MISSING,
                    f"flag {flag_name} needs the context's targetingKey: an override list or a percentage decides; it answers the default",
                    operation="evaluate",
                    flag_name=flag_name,
                )
            )
            return True, default
        if isinstance(outcome, VexilClientError):
            self._record(outcome)
            return True, default
        entry, result = outcome
        if self._reporter is not None:
            self._reporter.add(flag_type, flag_name, entry.wtime, instance_id, result)
        return True, default if result.value is None else result.value

    def _not_ready(self, flag_name: str) -> VexilClientError:
        return VexilClientError(
            errors.NOT_READY,
            f"no flag data for project {self.project_name} yet, and a context without targetingKey cannot be asked "
            f"of the service: flag {flag_name} answers its default",
            operation="evaluate",
            flag_name=flag_name,
        )

    def _cached(self, flag_type: str, flag_name: str, instance_id: str) -> tuple[str, tuple[Any, bool] | None]:
        key = RemoteFlags.key(flag_type, flag_name, instance_id)
        return key, self._remote.cache.get(key)

    def _answer(self, outcome: Outcome, cached: tuple[Any, bool] | None, default: Any) -> Any:
        if outcome.error is None:
            return value_or_default(outcome.value, default)
        self._record(outcome.error)
        if not outcome.authoritative and cached is not None:
            # The service is down, slow or failing: the last value known for this flag and id.
            return value_or_default(cached[0], default)
        return default

    def _failed(self, flag_name: Any, error: BaseException, default: Any) -> Any:
        """Any exception in a get: recorded, and the default answered."""
        try:
            if isinstance(error, VexilClientError):
                self._record(error)
            else:
                self._record(
                    VexilClientError(
                        errors.PARSE_ERROR,
                        f"flag {flag_name} could not be evaluated: {error!r}",
                        operation="evaluate",
                        flag_name=flag_name if isinstance(flag_name, str) else None,
                    )
                )
        except Exception:  # noqa: BLE001 - recording must not make a get raise
            pass
        return default

    def _close_local(self) -> None:
        self._closed = True
        if self._sync is not None:
            self._sync.close()
        if self._reporter is not None:
            self._reporter.close()
