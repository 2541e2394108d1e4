"""Abuse limits, checked before an update reaches the dispatcher: messages per user per minute, oversized
messages, answers graded per user per hour (an LLM grader costs money) and quizzes started per group
per hour. A refused update gets one polite reply and changes nothing; the round stays where it was.

Counts live in this process and are lost on restart: with several instances, each keeps its own,
so a user whose updates reach two instances may get up to twice a limit.
"""

from __future__ import annotations

import contextvars
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.events import ChoiceIn, CommandIn, Inbound, Reply, TextIn
from bot.core.texts import plural
from bot.grading.verdict import Grader, Rubric, Verdict
from bot.ops.metrics import LIMITED

Handle = Callable[[Inbound], Awaitable[list[Reply]]]


@dataclass
class _Update:
    user: tuple[str, str]
    charged: bool = False  # one answer may take several grader calls (an exercise, a follow-up): one grade


_CURRENT: contextvars.ContextVar[_Update | None] = contextvars.ContextVar("limited_update", default=None)


@dataclass(frozen=True)
class LimitSettings:
    messages_per_minute: int
    grades_per_hour: int
    group_quizzes_per_hour: int
    max_message_chars: int


class GradeLimitReached(Exception):
    """Raised instead of grading: the turn's transaction rolls back, so nothing of it is kept."""


class _Windows:
    """Events per key over a sliding window."""

    def __init__(self, span: timedelta) -> None:
        self.span = span
        self._seen: dict[Any, deque[datetime]] = {}

    def count(self, key: Any, now: datetime) -> int:
        seen = self._seen.get(key)
        if not seen:
            return 0
        while seen and seen[0] <= now - self.span:
            seen.popleft()
        return len(seen)

    def add(self, key: Any, now: datetime) -> None:
        self._seen.setdefault(key, deque()).append(now)
        if len(self._seen) > 50_000:  # forget idle keys, so memory follows active users only
            self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self.span}

    def free_in(self, key: Any, now: datetime) -> timedelta:
        seen = self._seen.get(key)
        return (seen[0] + self.span - now) if seen else timedelta(0)


def _minutes(wait: timedelta) -> str:
    minutes = max(1, round(wait.total_seconds() / 60))
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def _quizzes(n: int) -> str:
    return "1 quiz" if n == 1 else f"{n} quizzes"


def _starts_group_quiz(event: Inbound) -> bool:
    payload = event.payload
    return (
        event.chat_kind == "group"
        and isinstance(payload, CommandIn)
        and payload.name == "quiz"
        and [a.lower() for a in payload.args[:1]] == ["now"]
    )


class AbuseLimits:
    def __init__(self, limits: LimitSettings, clock: Callable[[], datetime]) -> None:
        self.limits = limits
        self.clock = clock
        self._messages = _Windows(timedelta(minutes=1))
        self._grades = _Windows(timedelta(hours=1))
        self._quizzes = _Windows(timedelta(hours=1))
        self._warned: dict[tuple[str, str], datetime] = {}  # a flood gets one notice per minute, not one each

    def gate(self, handle: Handle) -> Handle:
        async def run(event: Inbound) -> list[Reply]:
            if not event.user_id or not isinstance(event.payload, TextIn | CommandIn | ChoiceIn):
                return await handle(event)  # chat-level events and poll answers cost nothing to refuse
            refusal = self._refusal(event)
            if refusal is not None:
                return refusal
            token = _CURRENT.set(_Update((event.platform, event.user_id)))
            try:
                replies = await handle(event)
                if any(r.starts_quiz for r in replies):
                    self._quizzes.add((event.platform, event.chat_id), self.clock())  # not a member's refused try
                return replies
            except GradeLimitReached:
                LIMITED.labels("grades").inc()
                user = (event.platform, event.user_id)
                wait = _minutes(self._grades.free_in(user, self.clock()))
                return [
                    Reply(
                        f"You've had {plural(self.limits.grades_per_hour, 'answer')} graded in the last hour, the most I "
                        f"grade in an hour. Your round is kept as it was: try again in about {wait}.",
                        private=True,
                    )
                ]
            finally:
                _CURRENT.reset(token)

        return run

    def _refusal(self, event: Inbound) -> list[Reply] | None:
        now, user, payload = self.clock(), (event.platform, event.user_id), event.payload
        if self._messages.count(user, now) >= self.limits.messages_per_minute:
            LIMITED.labels("messages").inc()
            warned = self._warned.get(user)
            if warned is not None and now - warned < timedelta(minutes=1):
                return []  # already told; a flood is dropped quietly
            if len(self._warned) > 50_000:
                self._warned = {u: t for u, t in self._warned.items() if now - t < timedelta(minutes=1)}
            self._warned[user] = now
            wait = _minutes(self._messages.free_in(user, now))
            text = f"You're sending messages faster than I can answer them well. Give me {wait}; your round is kept as it was."
            return [Reply(text, private=True)]
        self._messages.add(user, now)
        if isinstance(payload, TextIn) and len(payload.text) > self.limits.max_message_chars:
            LIMITED.labels("size").inc()
            text = (
                f"That message is {len(payload.text):,} characters; I read at most "
                f"{self.limits.max_message_chars:,} at once. Send the key part, or split it over a few messages."
            )
            return [Reply(text, private=True)]
        chat = (event.platform, event.chat_id)
        if _starts_group_quiz(event) and self._quizzes.count(chat, now) >= self.limits.group_quizzes_per_hour:
            LIMITED.labels("quizzes").inc()
            wait = _minutes(self._quizzes.free_in(chat, now))
            text = (
                f"This group has started {_quizzes(self.limits.group_quizzes_per_hour)} in the last hour, the most "
                f"allowed. The next one can start in about {wait}."
            )
            return [Reply(text)]
        return None

    def grader(self, grader: Grader) -> Grader:
        return _LimitedGrader(grader, self)

    def charge_grade(self) -> None:
        """Count one grade for the user whose update is being handled, or refuse it."""
        update = _CURRENT.get()
        if update is None or update.charged:  # a scheduled send or a tool; or this answer is already counted
            return
        now = self.clock()
        if self._grades.count(update.user, now) >= self.limits.grades_per_hour:
            raise GradeLimitReached
        self._grades.add(update.user, now)
        update.charged = True


class _LimitedGrader:
    def __init__(self, grader: Grader, limits: AbuseLimits) -> None:
        self.grader, self.limits = grader, limits
        self.name: str = getattr(grader, "name", type(grader).__name__)

    async def grade(self, rubric: Rubric, answer: str) -> Verdict:
        self.limits.charge_grade()
        return await self.grader.grade(rubric, answer)
