"""AsyncFeatureFlagClient: the runbook client's asyncio class."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .client_base import ClientBase, Target, value_or_default
from .remote_flags import Outcome

J = TypeVar("J", dict, list)  # type: ignore[type-arg]


class AsyncFeatureFlagClient(ClientBase):
    """The same gets as FeatureFlagClient, as coroutines that never block the event loop.

    Each request to ``/get-feature-flag`` runs on a small thread pool of the client's own
    (``loop.run_in_executor``) rather than over asyncio streams: it is the same urllib
    request as the synchronous client's (HTTPS, proxies from the environment, chunked
    answers), with no HTTP/1.1 client of our own to keep, and it is short and bounded by
    ``timeout``. Identical gets in flight share one request, and each get waits at most
    ``timeout`` seconds. With ``local_evaluation=True`` a get is a lookup and an
    evaluation in memory, done on the loop (no I/O); the change stream is followed on a
    background thread, as in the synchronous client.
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
        max_workers: int = 8,
    ) -> None:
        super().__init__(
            "AsyncFeatureFlagClient",
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
        self._max_workers = max_workers
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="vexil-get")
        # Requests in flight by cache key, per event loop (a future belongs to its loop).
        self._inflight: dict[tuple[int, str], asyncio.Future[Outcome]] = {}

    def _after_fork_in_child(self) -> None:
        # The pool's threads are the parent's: a child gets a pool of its own.
        if hasattr(self, "_executor"):
            self._executor = ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="vexil-get")
            self._inflight = {}
        super()._after_fork_in_child()

    async def get_flag_boolean(self, flag_name: str, instance_id: Target, default_value: bool) -> bool:
        """The value of feature flag ``flag_name`` for ``instance_id`` (never raises)."""
        return await self._get("feature", flag_name, instance_id, default_value)  # type: ignore[no-any-return]

    async def get_flag_string(self, flag_name: str, instance_id: Target, default_value: str) -> str:
        """The value of data flag ``flag_name`` for ``instance_id`` (never raises)."""
        return await self._get("data", flag_name, instance_id, default_value)  # type: ignore[no-any-return]

    async def get_flag_number(self, flag_name: str, instance_id: Target, default_value: float) -> float:
        """The value of number flag ``flag_name`` (an int or float, as stored; never raises)."""
        return await self._get("number", flag_name, instance_id, default_value)  # type: ignore[no-any-return]

    async def get_flag_json(self, flag_name: str, instance_id: Target, default_value: J) -> J:
        """The value of json flag ``flag_name``: a dict or list, as stored (never raises)."""
        return await self._get("json", flag_name, instance_id, default_value)  # type: ignore[no-any-return]

    async def ready(self, timeout: float = 5.0) -> bool:
        """Local evaluation: True once the client holds the service's flags, False after
        ``timeout`` seconds (at once when the project does not exist). True without local
        evaluation."""
        if self._local is None:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Polled, not awaited on the thread's event: a short sleep costs the loop nothing.
        while not self._settled.is_set() and loop.time() < deadline:
            await asyncio.sleep(0.01)
        return self._synced.is_set()

    async def flush_reports(self) -> None:
        if self._reporter is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._reporter.flush)

    async def close(self) -> None:
        """Stops the change stream, sends the evaluations still queued, ends the thread pool."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._close_local)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._remote.cache.clear()

    async def __aenter__(self) -> AsyncFeatureFlagClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _get(self, flag_type: str, flag_name: str, target: Target, default: Any) -> Any:
        try:
            instance_id, context = self._check(flag_type, flag_name, target)
            answered, value = self._evaluate_locally(flag_type, flag_name, instance_id, context, default)
            if answered:
                return value
            if instance_id == "":
                return self._failed(flag_name, self._not_ready(flag_name), default)
            key, cached = self._cached(flag_type, flag_name, instance_id)
            if cached is not None and cached[1]:
                return value_or_default(cached[0], default)
            outcome = await self._fetch(key, flag_type, flag_name, instance_id)
            return self._answer(outcome, cached, default)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a get never raises
            return self._failed(flag_name, error, default)

    async def _fetch(self, key: str, flag_type: str, flag_name: str, instance_id: str) -> Outcome:
        loop = asyncio.get_running_loop()
        slot = (id(loop), key)
        pending = self._inflight.get(slot)
        if pending is None:
            pending = loop.run_in_executor(self._executor, self._remote.fetch, flag_type, flag_name, instance_id)
            self._inflight[slot] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(slot, None))
        try:
            # shield: one caller's cancellation or deadline does not cancel the others' shared request.
            return await asyncio.wait_for(asyncio.shield(pending), self.timeout)
        except asyncio.TimeoutError:
            from .service import request_error

            return Outcome(
                error=request_error(
                    TimeoutError(), "get-feature-flag", f"{flag_type} flag {flag_name} of project {self.project_name}",
                    self.timeout, flag_name,
                )
            )
