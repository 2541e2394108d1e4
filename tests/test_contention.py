"""A slow grade (an LLM taking seconds) holds up nobody else: no transaction, no SQLite write slot and
no pooled connection is held while the engine works. Gated fakes, no timing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord.adapter import DiscordAdapter, DiscordSettings
from bot.app import ADAPTER_CONCURRENCY, pool_size_for
from bot.config import load_settings
from bot.core.dispatcher import Dispatcher
from bot.core.events import Inbound, Payload, Reply
from bot.delivery.outbox import SENDER_WORKERS
from bot.delivery.sending import Limits, RateLimiter
from bot.engine import Engine
from bot.exercises.checking import CheckedAnswer, ExerciseChecker
from bot.exercises.sandbox import Sandbox, SandboxConfig
from bot.grading.claims import ClaimGrader
from bot.grading.verdict import Grader, Rubric, Verdict
from questions.loader import SHIPPED_DIR, Bank, load_bank
from questions.schema import TechnicalQuestion
from storage.database import make_engine
from storage.uow import unit_of_work_factory
from tests.conftest import FakeClock, cmd, make_event, text


class GatedGrader:
    """Grades like the rubric grader, but only once the gate opens: an LLM call in flight."""

    def __init__(self, expected: int) -> None:
        self.gate, self.all_waiting = asyncio.Event(), asyncio.Event()
        self.expected, self.waiting = expected, 0

    async def grade(self, rubric: Rubric, answer: str) -> Verdict:
        self.waiting += 1
        if self.waiting == self.expected:
            self.all_waiting.set()
        await self.gate.wait()
        return await ClaimGrader().grade(rubric, answer)


@pytest.fixture
async def small_pool(db_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The test database again, through a pool of one connection (plus one overflow) on PostgreSQL."""
    if db_engine.dialect.name == "sqlite":
        yield db_engine
        return
    async with db_engine.connect() as conn:
        schema = await conn.exec_driver_sql("SELECT current_schema()")
        name = str(schema.scalar())
    engine = make_engine(db_engine.url.render_as_string(hide_password=False), pool_size=1, pg_schema=name)
    engine.pool._timeout = 5  # type: ignore[attr-defined]  # fail fast instead of after 30 s
    yield engine
    await engine.dispose()


async def test_other_users_are_answered_while_answers_are_being_graded(
    bank: Bank, clock: FakeClock, small_pool: AsyncEngine
) -> None:
    graders = [f"slow{i}" for i in range(5)]
    grader = GatedGrader(len(graders))
    counter = iter(range(1, 1_000_000))
    engine = Engine(bank, clock, grader, new_id=lambda: f"round{next(counter)}")
    dispatcher = Dispatcher(engine, unit_of_work_factory(small_pool), clock)

    async def send(payload: Payload, user: str) -> list[Reply]:
        return await dispatcher.dispatch(make_event(payload, user=user, chat=user))

    for user in graders:
        await send(cmd("mock", "technical", "medium", "3"), user)
        await send(text("Regularization reduces variance because it constrains the weights."), user)
    grading = [asyncio.create_task(send(cmd("done"), user)) for user in graders]
    try:
        async with asyncio.timeout(20):  # before, this waited for the SQLite writer slot held by a grade
            await grader.all_waiting.wait()  # every grade is in flight at once
            # Everyone else carries on meanwhile: before, /help waited on PostgreSQL for a pooled
            # connection until the grades finished.
            for other in ("o1", "o2", "o3"):
                assert await send(cmd("help"), other)
                assert await send(cmd("mock", "technical", "easy", "3"), other)
            assert not any(t.done() for t in grading)  # the grades really were still in flight
            grader.gate.set()
            results = await asyncio.gather(*grading)
    finally:
        grader.gate.set()
        for task in grading:
            task.cancel()
    assert all("Score" in r[0].text for r in results)


async def test_the_discord_adapter_caps_events_in_flight_and_the_pool_covers_them() -> None:
    gate, in_flight, most = asyncio.Event(), [0], [0]

    async def slow_dispatch(event: Inbound) -> list[Reply]:
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        await gate.wait()
        in_flight[0] -= 1
        return []

    async def nothing(*args: object) -> None:
        return None

    adapter = DiscordAdapter(
        DiscordSettings("token", concurrency=ADAPTER_CONCURRENCY),
        slow_dispatch,
        RateLimiter(Limits()),
        nothing,  # type: ignore[arg-type]
        nothing,  # type: ignore[arg-type]
        nothing,  # type: ignore[arg-type]
        nothing,  # type: ignore[arg-type]
    )
    events = [asyncio.create_task(adapter.dispatch(make_event(cmd("help"), user=f"u{i}"))) for i in range(200)]
    for _ in range(10):
        await asyncio.sleep(0)
    assert most[0] == ADAPTER_CONCURRENCY  # before: all 200 at once, each wanting a connection
    gate.set()
    await asyncio.gather(*events)
    await adapter.client.close()
    tokens = {
        "TELEGRAM_BOT_TOKEN": "123456789:AAtesttoken_abcdefghijklmnopqrstuv",
        "DISCORD_BOT_TOKEN": "MTE5ODc2NTQzMjEwOTg3NjU0Mw.GabCdE.fakefakefakefakefakefakefakefakefakefake12",
    }
    both = load_settings({**tokens, "DATA_DIR": "/tmp"}, dotenv=None)
    assert 2 * pool_size_for(both) >= 2 * ADAPTER_CONCURRENCY + SENDER_WORKERS + 1


class SignallingChecker(ExerciseChecker):
    """Runs exercises as the bot does, and says when a check has begun."""

    def __init__(self) -> None:
        super().__init__(Sandbox(SandboxConfig(mode="off")))
        self.started = asyncio.Event()

    async def check(self, item: TechnicalQuestion, answer: str, grader: Grader) -> CheckedAnswer:
        self.started.set()
        return await super().check(item, answer, grader)


async def test_other_users_are_answered_while_a_hostile_query_runs_into_its_limit(
    clock: FakeClock, db_engine: AsyncEngine
) -> None:
    bank = load_bank([SHIPPED_DIR / "technical" / "6.3-sql-exercises.yaml"], check_duplicates=False)
    checker = SignallingChecker()
    engine = Engine(bank, clock, exercises=checker)
    dispatcher = Dispatcher(engine, unit_of_work_factory(db_engine), clock)

    async def send(payload: Payload, user: str) -> list[Reply]:
        return await dispatcher.dispatch(make_event(payload, user=user, chat=user))

    await send(cmd("mock", "technical", "easy", "3"), "attacker")
    await send(
        text("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT COUNT(*) FROM r"), "attacker"
    )
    grading = asyncio.create_task(send(cmd("done"), "attacker"))
    try:
        async with asyncio.timeout(20):
            await checker.started.wait()
            for other in ("o1", "o2"):  # answered while the query runs into its 1 s limit on each fixture
                assert "mock interviewer" in (await send(cmd("help"), other))[0].text
                assert await send(cmd("mock", "technical", "easy", "3"), other)
            assert not grading.done()
            replies = await grading
    finally:
        grading.cancel()
    assert "stopped after 1 s" in "\n".join(r.text for r in replies)
