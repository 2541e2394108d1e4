"""APScheduler wiring and leader election."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import cast

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


class _SlowSender:
    """A drain that is mid-send when the service stops, and needs the loop to unwind."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.unwound = False

    async def recover(self) -> None:
        return None

    async def drain(self) -> None:
        self.started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0)  # a driver closing its cursor after the cancel
            await asyncio.sleep(0)
            self.unwound = True


class _InstantLeadership:
    lease = 30.0

    def __init__(self, sender: _SlowSender) -> None:
        self.sender = sender
        self.released_while_running = False

    async def check(self) -> bool:
        return False

    async def release(self) -> None:
        self.released_while_running = not self.sender.unwound


async def test_stop_waits_for_a_cancelled_job_to_unwind_before_releasing_leadership() -> None:
    sender = _SlowSender()
    leadership = _InstantLeadership(sender)
    service = SchedulerService(cast(Planner, None), cast(Sender, sender), cast(Leadership, leadership), send_every=0.05)
    await service.start()
    await asyncio.wait_for(sender.started.wait(), 5)
    await service.stop()
    assert sender.unwound
    assert not leadership.released_while_running
