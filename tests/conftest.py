"""Shared fixtures: a small fixed bank, a fake clock, and databases on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.dispatcher import Dispatcher
from bot.core.events import ChoiceIn, CommandIn, Inbound, Payload, Reply, TextIn
from bot.core.ports import Profile
from bot.core.router import Turn
from bot.core.state import DialogueState
from bot.delivery.sending import Limits
from bot.engine import Engine
from questions.loader import Bank, load_bank
from storage.database import make_engine, sqlite_url, upgrade
from storage.uow import SqlUnitOfWork, unit_of_work_factory

if TYPE_CHECKING:
    from tests.harness import Harness

FIXTURE_BANK = Path(__file__).parent / "fixtures" / "bank"
GRADING_BANK = Path(__file__).parent / "fixtures" / "grading"  # extra questions for the grader's own tests
# Platform tests check flows, not pacing (the limiter has its own tests): the real limiter, opened wide.
FLOW_LIMITS = Limits(per_second=500, per_chat_interval=0.01, per_group_minute=1000)
ROOT = Path(__file__).resolve().parent.parent


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def bank() -> Bank:
    return load_bank([FIXTURE_BANK])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_event(
    payload: Payload,
    *,
    user: str = "u1",
    chat: str = "c1",
    platform: str = "test",
    message_id: str | None = None,
    name: str = "Ada",
    when: datetime | None = None,
) -> Inbound:
    return Inbound(platform, chat, "private", user, name, message_id, when or datetime(2026, 3, 2, tzinfo=UTC), payload)


def text(t: str) -> TextIn:
    return TextIn(t)


def cmd(name: str, *args: str) -> CommandIn:
    return CommandIn(name, tuple(args))


def last_buttons(replies: list[Reply]) -> dict[str, str]:
    """Label -> choice id of the last reply that had buttons."""
    for reply in reversed(replies):
        if reply.buttons:
            return {b.label: b.choice_id for b in reply.buttons}
    return {}


class Conversation:
    """Drives an engine directly with plain data, the way the dispatcher would."""

    def __init__(self, engine: Engine, profile: Profile | None = None) -> None:
        self.engine = engine
        self.state = DialogueState()
        self.profile = profile or Profile(user_id=1, display_name="Ada")
        self.replies: list[Reply] = []
        self.records: list[object] = []

    async def send(self, payload: Payload) -> list[Reply]:
        turn: Turn = await self.engine.handle(make_event(payload), self.state, self.profile)
        self.state = turn.state
        self.replies = turn.replies
        self.records += turn.records
        return turn.replies

    async def press(self, label: str) -> list[Reply]:
        buttons = last_buttons(self.replies)
        assert label in buttons, f"no button {label!r} in {list(buttons)}"
        return await self.send(ChoiceIn(buttons[label]))

    @property
    def text(self) -> str:
        return "\n".join(r.full_text for r in self.replies)


@pytest.fixture
def engine(bank: Bank, clock: FakeClock) -> Engine:
    counter = iter(range(1, 1_000_000))
    return Engine(bank, clock, new_id=lambda: f"round{next(counter)}")


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    return url if url.startswith("postgresql") else None


@pytest.fixture(params=["sqlite", "postgres"])
async def db_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        engine = make_engine(sqlite_url(tmp_path))
        await upgrade(engine)
        yield engine
        await engine.dispose()
        return
    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL storage tests need DATABASE_URL=postgresql+asyncpg://... (CI sets it)")
    admin = make_engine(url)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    try:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except OSError as exc:
        await admin.dispose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL at DATABASE_URL is not reachable ({exc})")
    engine = make_engine(url, pg_schema=schema)
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        await admin.dispose()


@pytest.fixture
def uow_factory(db_engine: AsyncEngine) -> Callable[[], SqlUnitOfWork]:
    return unit_of_work_factory(db_engine)


@pytest.fixture
def dispatcher(engine: Engine, uow_factory: Callable[[], SqlUnitOfWork], clock: FakeClock) -> Dispatcher:
    return Dispatcher(engine, uow_factory, clock)


@pytest.fixture
def harness(engine: Engine, uow_factory: Callable[[], SqlUnitOfWork], clock: FakeClock) -> Harness:
    from tests.harness import Harness

    return Harness(engine, uow_factory, clock)


@contextmanager
def virtual_sleep(now: list[float]) -> Iterator[None]:
    """asyncio.sleep advances `now[0]` instead of waiting, for rate limiters on a fake clock."""
    original = asyncio.sleep

    async def fake_sleep(delay: float) -> None:
        now[0] += delay
        await original(0)

    asyncio.sleep = fake_sleep  # type: ignore[assignment]
    try:
        yield
    finally:
        asyncio.sleep = original  # type: ignore[assignment]
