"""Prometheus metrics. Labels stay small (platform, kind, grader, outcome, status): never a user or chat id.

Each instance serves its own figures; the database figures (outbox, rounds, subscriptions) are read at
scrape time, so every instance reports the same values for those.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from bot.core.events import ChoiceIn, CommandIn, Inbound, PollAnswerIn, Reply, TextIn, TickIn
from bot.delivery.sending import Blocked, RetryLater
from bot.grading.verdict import Grader, Rubric, Verdict

disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series only double the page

log = logging.getLogger(__name__)
SLOW_TURN = 10.0  # seconds; grading by an LLM takes a few

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S")

UPDATES = Counter("mock_interviewer_updates", "Inbound updates handled", ["platform", "kind"])
TURN_SECONDS = Histogram(
    "mock_interviewer_turn_seconds",
    "Time to handle one update, grading included",
    ["platform"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
GRADE_SECONDS = Histogram(
    "mock_interviewer_grade_seconds",
    "Time to grade one answer",
    ["grader"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
SENDS = Counter(
    "mock_interviewer_sends", "Messages sent, by outcome (sent, retried, blocked, failed)", ["platform", "outcome"]
)
RATE_LIMITED = Counter("mock_interviewer_rate_limited", "429 answers from a platform", ["platform"])
RETRY_AFTER = Histogram(
    "mock_interviewer_retry_after_seconds",
    "Waits a platform asked for",
    ["platform"],
    buckets=(1, 2, 5, 10, 30, 60, 300),
)
TICKS = Counter("mock_interviewer_scheduler_ticks", "Planning ticks, by whether this instance planned", ["role"])
LEADER = Gauge("mock_interviewer_scheduler_leader", "1 when this instance plans the scheduled sends")
LIMITED = Counter("mock_interviewer_limited", "Updates refused by an abuse limit", ["limit"])
OUTBOX = Gauge("mock_interviewer_outbox_rows", "Outbox rows by status", ["status"])
OUTBOX_OLDEST = Gauge("mock_interviewer_outbox_oldest_pending_seconds", "Age of the oldest unsent outbox row")
ACTIVE_ROUNDS = Gauge("mock_interviewer_active_rounds", "Rounds in progress")
DAILY = Gauge("mock_interviewer_daily_subscriptions", "Active daily-question subscriptions")
OUTBOX_STATUSES = ("pending", "sent", "failed")


KINDS: dict[type, str] = {
    TextIn: "text", CommandIn: "command", ChoiceIn: "choice", TickIn: "tick", PollAnswerIn: "poll_answer"
}  # fmt: skip


def kind_of(event: Inbound) -> str:
    return KINDS.get(type(event.payload), "other")


def instrumented(
    handle: Callable[[Inbound], Awaitable[list[Reply]]],
) -> Callable[[Inbound], Awaitable[list[Reply]]]:
    """Counts each update and times its turn; a slow turn is logged as a warning, every turn at DEBUG."""

    async def run(event: Inbound) -> list[Reply]:
        start = time.perf_counter()
        try:
            return await handle(event)
        finally:
            kind, latency = kind_of(event), time.perf_counter() - start
            UPDATES.labels(event.platform, kind).inc()
            TURN_SECONDS.labels(event.platform).observe(latency)
            fields = {"platform": event.platform, "kind": kind, "latency": round(latency, 4)}
            level = logging.WARNING if latency > SLOW_TURN else logging.DEBUG
            log.log(level, "%s %s update handled in %.3f s", event.platform, kind, latency, extra=fields)

    return run


class TimedGrader:
    """Times every grade under the wrapped grader's name."""

    def __init__(self, grader: Grader) -> None:
        self.grader = grader
        self.name: str = getattr(grader, "name", type(grader).__name__)

    async def grade(self, rubric: Rubric, answer: str) -> Verdict:
        with GRADE_SECONDS.labels(self.name).time():
            return await self.grader.grade(rubric, answer)


def counted_sends(
    platform: str,
) -> Callable[
    [Callable[Concatenate[S, P], Coroutine[Any, Any, T]]], Callable[Concatenate[S, P], Coroutine[Any, Any, T]]
]:
    """Decorates a transport's `send`: each call counted by outcome, 429 waits recorded."""

    def wrap(
        send: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
    ) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
        async def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
            try:
                result = await send(self, *args, **kwargs)
            except RetryLater as exc:
                SENDS.labels(platform, "retried").inc()
                if exc.retry_after is not None:
                    RATE_LIMITED.labels(platform).inc()
                    RETRY_AFTER.labels(platform).observe(exc.retry_after)
                raise
            except Blocked:
                SENDS.labels(platform, "blocked").inc()
                raise
            except Exception:
                SENDS.labels(platform, "failed").inc()
                raise
            SENDS.labels(platform, "sent").inc()
            return result

        return run

    return wrap


def count_sends(platform: str, outcome: str, n: int = 1) -> None:
    """Replies sent outside a transport (the response to a Discord interaction)."""
    SENDS.labels(platform, outcome).inc(n)


def scheduler_tick(leader: bool) -> None:
    TICKS.labels("leader" if leader else "follower").inc()
    LEADER.set(1 if leader else 0)
