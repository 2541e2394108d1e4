"""APScheduler wiring and leader election."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.scheduler import SchedulerService
from bot.core.dispatcher import Dispatcher
from bot.delivery.outbox import Planner, Sender
from bot.engine import Engine
from storage.leader import Leadership
from storage.uow import SqlUnitOfWork
from tests.conftest import FakeClock, cmd
from tests.fakes import FakeTransport
from tests.harness import event


async def test_scheduler_plans_and_sends(
    engine: Engine, uow_factory: Callable[[], SqlUnitOfWork], db_engine: AsyncEngine, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 3, 2, 8, 59, tzinfo=UTC)
    dispatcher = Dispatcher(engine, uow_factory, clock)
    await dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), "u1", clock))
    clock.now = datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)
    transport = FakeTransport()
    sender = Sender(uow_factory, dispatcher, {"test": transport}, {}, clock, "i1")
    service = SchedulerService(Planner(uow_factory, clock), sender, Leadership(db_engine), send_every=0.1)
    await service.start()
    try:
        for _ in range(100):
            if transport.sent:
                break
            await asyncio.sleep(0.05)
    finally:
        await service.stop()
    assert [c for c, _ in transport.sent] == ["dm-u1"]


@pytest.mark.parametrize("db_engine", ["postgres"], indirect=True)
async def test_one_leader_and_takeover_when_it_dies(db_engine: AsyncEngine) -> None:
    key = 424242
    first, second = Leadership(db_engine, key), Leadership(db_engine, key)
    assert await first.check() is True
    assert await second.check() is False
    assert await first.check() is True  # staying leader is cheap and stable
    await first.release()  # the leader's process dies: its session, and so its lock, is gone
    assert await second.check() is True
    assert await first.check() is False
    await second.release()
    await first.release()
