"""One send to one platform: the transport it goes through, how it is paced, and how it is retried."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bot.core.events import Reply

T = TypeVar("T")


class DeliveryError(Exception):
    """A send that failed; subclasses say whether and when to retry."""


class RetryLater(DeliveryError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Blocked(DeliveryError):
    """The user blocked the bot or the bot was removed from the chat: stop sending there."""


class Rejected(DeliveryError):
    """The platform refused this message for good (a bad request); retrying would not help."""


class Moved(DeliveryError):
    """The chat has a new id (a Telegram group became a supergroup): send there instead."""

    def __init__(self, new_chat_id: str) -> None:
        super().__init__(f"chat moved to {new_chat_id}")
        self.new_chat_id = new_chat_id


class Transport(Protocol):
    """One platform's way of sending engine replies to a chat; returns (platform poll id, poll ref) pairs."""

    async def send(
        self, chat_id: str, chat_kind: str, reply: Reply, thread_id: str | None = None
    ) -> tuple[str, str] | None: ...


@dataclass
class Limits:
    per_second: float = 30.0  # overall
    per_chat_interval: float = 1.0  # seconds between messages to one chat, after a burst
    per_group_minute: int = 20
    per_chat_burst: int = 1  # messages one chat may get at once (a short reply in parts) before the spacing


class RateLimiter:
    """Spaces sends evenly, measured from when each send was actually released, so late wake-ups
    never bunch messages together; per-chat and per-group waits do not hold up other chats."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic, max_chats: int = 50_000) -> None:
        self.limits = limits
        self.clock = clock
        self.max_chats = max_chats
        self._next = 0.0
        self._chat_next: dict[str, float] = {}
        self._group_sent: dict[str, deque[float]] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, chat_id: str, is_group: bool) -> None:
        now = self.clock()
        # A chat's next slot moves on one interval per message; up to a burst may go ahead of it.
        due = self._chat_next.get(chat_id, 0.0)
        at = max(now, due - (self.limits.per_chat_burst - 1) * self.limits.per_chat_interval)
        sent = self._group_sent.setdefault(chat_id, deque()) if is_group else None
        if sent is not None:
            while sent and sent[0] <= at - 60:
                sent.popleft()
            if len(sent) >= self.limits.per_group_minute:
                at = max(at, sent[-self.limits.per_group_minute] + 60)
        self._chat_next[chat_id] = max(due, at) + self.limits.per_chat_interval
        if len(self._chat_next) > self.max_chats:  # chats with nothing pending carry no constraint
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        if len(self._group_sent) > self.max_chats:  # groups with no send in the last minute neither
            self._group_sent = {c: d for c, d in self._group_sent.items() if c == chat_id or (d and d[-1] > now - 60)}
        if at > now:
            await asyncio.sleep(at - now)
        async with self._lock:
            wait = self._next - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            released = self.clock()
            self._next = released + 1.0 / self.limits.per_second
        if sent is not None:
            sent.append(released)  # the real release time, so the minute window is exact


async def with_retries(send: Callable[[], Awaitable[T]], retries: int, *, longest_wait: float) -> T:
    """Retry a send the platform asked us to repeat: honour retry_after, else back off exponentially.
    Past `retries`, or when told to wait longer than `longest_wait`, the RetryLater goes to the caller,
    which queues the send rather than hold everything up."""
    for attempt in range(retries):
        try:
            return await send()
        except RetryLater as exc:
            if (exc.retry_after or 0) > longest_wait:
                raise
            await asyncio.sleep(exc.retry_after if exc.retry_after is not None else 0.5 * 2**attempt)
    return await send()
