"""A small time-limited cache with a size bound, for what adapters look up per event (admin status)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Entries expire after `ttl` seconds; past `size` entries the oldest go first, so a bot in many
    chats keeps a bounded map instead of one entry per (chat, member) it has ever seen."""

    def __init__(self, ttl: float, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.size, self.clock = ttl, size, clock
        self._items: dict[K, tuple[V, float]] = {}

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None or self.clock() - found[1] >= self.ttl:
            return None
        return found[0]

    def put(self, key: K, value: V) -> None:
        self._items.pop(key, None)  # re-inserted at the end: insertion order is age order
        while len(self._items) >= self.size:
            self._items.pop(next(iter(self._items)))
        self._items[key] = (value, self.clock())

    def __len__(self) -> int:
        return len(self._items)
