"""FeatureFlagClient: the runbook client's synchronous class."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .client_base import ClientBase, Target, value_or_default

J = TypeVar("J", dict, list)  # type: ignore[type-arg]


class FeatureFlagClient(ClientBase):
    """Reads Vexil flags; every get answers, never raises.

    By default each get asks the service's ``/get-feature-flag`` (which evaluates and logs
    it), as the runbook client did, through an in-memory cache of ``cache_size`` values
    (100) kept ``cache_ttl`` seconds (300), with a ``timeout`` of 5 s. When the service is
    down, slow or failing, a get answers the last value known for that flag and id, else
    the default; when the service says the flag does not exist (404) or the request is
    wrong (400), the default. The reason is logged (logger ``vexil_client``, one line)
    and kept in ``last_error``.

    ``local_evaluation=True`` evaluates in process instead, from the project's snapshot
    kept current by the service's change stream (a background thread), and reports the
    evaluations to the service's log in batches (``report_evaluations``; a read ``token``
    for the project is needed for that). Until the first snapshot arrives, gets ask the
    service as above; ``ready()`` waits for it.

    ``clock`` (seconds, default ``time.monotonic``) is what the cache's TTL is measured
    with: tests pass their own.
    """

    def __init__(
        self,
        project_name: str,
        base_url: str | None = None,
        timeout: float = 5.0,
        cache_size: int = 100,
        cache_ttl: float = 300,
        token: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        local_evaluation: bool = False,
        report_evaluations: bool | Mapping[str, Any] = True,
        streaming: bool = True,
        poll_interval: float = 30.0,
        reconnect_delay: float = 0.5,
        max_reconnect_delay: float = 30.0,
        stream_idle_timeout: float = 45.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(
            "FeatureFlagClient",
            project_name,
            base_url=base_url,
            timeout=timeout,
            cache_size=cache_size,
            cache_ttl=cache_ttl,
            token=token,
            headers=headers,
            local_evaluation=local_evaluation,
            report_evaluations=report_evaluations,
            streaming=streaming,
            poll_interval=poll_interval,
            reconnect_delay=reconnect_delay,
            max_reconnect_delay=max_reconnect_delay,
            stream_idle_timeout=stream_idle_timeout,
            clock=clock,
        )

    def get_flag_boolean(self, flag_name: str, instance_id: Target, default_value: bool) -> bool:
        """The value of feature flag ``flag_name`` for ``instance_id`` (never raises; see the class)."""
        return self._get("feature", flag_name, instance_id, default_value)  # type: ignore[no-any-return]

    def get_flag_string(self, flag_name: str, instance_id: Target, default_value: str) -> str:
        """The value of data flag ``flag_name`` for ``instance_id`` (never raises; see the class)."""
        return self._get("data", flag_name, instance_id, default_value)  # type: ignore[no-any-return]

    def get_flag_number(self, flag_name: str, instance_id: Target, default_value: float) -> float:
        """The value of number flag ``flag_name`` (an int or float, as stored; never raises)."""
        return self._get("number", flag_name, instance_id, default_value)  # type: ignore[no-any-return]

    def get_flag_json(self, flag_name: str, instance_id: Target, default_value: J) -> J:
        """The value of json flag ``flag_name``: a dict or list, as stored (never raises)."""
        return self._get("json", flag_name, instance_id, default_value)  # type: ignore[no-any-return]

    def ready(self, timeout: float = 5.0) -> bool:
        """Local evaluation: waits until the client holds the service's flags (True), at most
        ``timeout`` seconds (False; at once when the project does not exist). Without local
        evaluation there is nothing to wait for: True."""
        if self._local is None:
            return True
        self._settled.wait(timeout)
        return self._synced.is_set()

    def flush_reports(self) -> None:
        """Sends the evaluations waiting to be reported."""
        if self._reporter is not None:
            self._reporter.flush()

    def close(self) -> None:
        """Stops the change stream and sends the evaluations still queued; later gets answer their defaults."""
        if self._closed:
            return
        self._close_local()
        self._remote.cache.clear()

    def __enter__(self) -> FeatureFlagClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _get(self, flag_type: str, flag_name: str, target: Target, default: Any) -> Any:
        try:
            instance_id, context = self._check(flag_type, flag_name, target)
            answered, value = self._evaluate_locally(flag_type, flag_name, instance_id, context, default)
            if answered:
                return value
            if instance_id == "":
                # A context without a targeting key, before the first snapshot: the service needs an id.
                return self._failed(flag_name, self._not_ready(flag_name), default)
            key, cached = self._cached(flag_type, flag_name, instance_id)
            if cached is not None and cached[1]:
                return value_or_default(cached[0], default)
            outcome = self._remote.fetch(flag_type, flag_name, instance_id)
            return self._answer(outcome, cached, default)
        except Exception as error:  # noqa: BLE001 - a get never raises
            return self._failed(flag_name, error, default)

