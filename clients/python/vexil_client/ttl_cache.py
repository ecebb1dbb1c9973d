"""The runbook client's in-memory cache: at most N values, each fresh for a TTL."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class TtlCache:
    """An LRU cache whose entries expire after ``ttl`` seconds but are kept until evicted.

    An expired entry is not served as fresh, but a failed refresh can still answer it
    (the last known value). Hand-written because the standard library's lru_cache
    memoizes a function and has no TTL; this is an OrderedDict and a lock.
    """

    def __init__(self, max_entries: int, ttl: float, clock: Callable[[], float]) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[Any, float]] = OrderedDict()
        self._lock = threading.Lock()

    def reset_lock(self) -> None:
        """A new lock, after fork(): another thread of the parent may have held the old one."""
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[Any, bool] | None:
        """(value, fresh) for the key, which becomes the most recently used; None when absent."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0], self._clock() < entry[1]

    def set(self, key: str, value: Any) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._entries[key] = (value, self._clock() + self.ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
