"""A dispatcher, planner, sender and fake transport wired together on one database, with a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.core.dispatcher import Dispatcher
from bot.core.events import ChatKind, Inbound, Payload
from bot.delivery.outbox import Planner, Sender
from bot.engine import Engine
from storage.models import OutboxRow
from storage.uow import SqlUnitOfWork
from tests.conftest import FakeClock
from tests.fakes import FakeTransport


def event(
    payload: Payload, user: str, clock: FakeClock, *, chat: str | None = None, group: bool = False, admin: bool = False
) -> Inbound:
    kind: ChatKind = "group" if group else "private"
    return Inbound("test", chat or f"dm-{user}", kind, user, f"name-{user}", None, clock(), payload, is_admin=admin)


class Harness:
    def __init__(
        self, engine: Engine, uow: Callable[[], SqlUnitOfWork], clock: FakeClock, instance: str = "i1"
    ) -> None:
        self.clock = clock
        self.uow = uow
        self.dispatcher = Dispatcher(engine, uow, clock)
        self.transport = FakeTransport()
        self.planner = Planner(uow, clock)
        self.sender = Sender(uow, self.dispatcher, {"test": self.transport}, {}, clock, instance, max_inline_retries=3)

    async def run_until(self, end: datetime, step: timedelta = timedelta(hours=1)) -> None:
        while self.clock.now < end:
            self.clock.advance(seconds=step.total_seconds())
            await self.planner.tick()
            await self.sender.drain()

    async def outbox(self) -> list[OutboxRow]:
        async with self.uow() as u:
            return list((await u.session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all())
