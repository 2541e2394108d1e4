"""A fake platform transport for delivery tests: records what it was asked to send."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.events import Reply
from bot.delivery.sending import Blocked, Moved, RetryLater


@dataclass
class FakeTransport:
    sent: list[tuple[str, Reply]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    moved: dict[str, str] = field(default_factory=dict)  # old chat id -> new (a group became a supergroup)
    errors: dict[str, Exception] = field(default_factory=dict)  # chat id -> what sending there raises
    fail: Callable[[str, Reply], bool] = lambda chat, reply: False
    retry_after: float = 0.0
    attempts: int = 0
    polls: int = 0

    async def send(
        self, chat_id: str, chat_kind: str, reply: Reply, thread_id: str | None = None
    ) -> tuple[str, str] | None:
        self.attempts += 1
        if chat_id in self.blocked:
            raise Blocked("Forbidden: bot was blocked by the user")
        if chat_id in self.moved:
            raise Moved(self.moved[chat_id])
        if chat_id in self.errors:
            raise self.errors[chat_id]
        if self.fail(chat_id, reply):
            raise RetryLater("Too Many Requests", self.retry_after)
        self.sent.append((chat_id, reply))
        if reply.poll is not None:
            self.polls += 1
            return (f"poll{self.polls}", reply.poll.ref)
        return None

    def texts(self, chat_id: str) -> list[str]:
        return [r.text for c, r in self.sent if c == chat_id]
