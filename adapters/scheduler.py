"""APScheduler wiring: a once-a-minute planning tick on the leader, and a sender on every instance."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery.outbox import Planner, Sender
from bot.ops.metrics import scheduler_tick
from storage.leader import Leadership

log = logging.getLogger(__name__)


class SchedulerService:
    def __init__(
        self,
        planner: Planner,
        sender: Sender,
        leadership: Leadership,
        *,
        send_every: float = 2.0,
        housekeeping: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.planner = planner
        self.housekeeping = housekeeping
        self.sender = sender
        self.leadership = leadership
        self.send_every = send_every
        self.scheduler = AsyncIOScheduler(timezone=UTC)

    async def start(self) -> None:
        await self.sender.recover()
        # Every job: one at a time, and a missed run (a busy loop, a pause) runs once, not many times.
        opts = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 50}
        soon = datetime.now(UTC) + timedelta(seconds=1)
        self.scheduler.add_job(self.tick, CronTrigger(second=0, timezone=UTC), id="plan", next_run_time=soon, **opts)
        self.scheduler.add_job(self.drain, IntervalTrigger(seconds=self.send_every), id="send", **opts)
        self.scheduler.add_job(self.clean, CronTrigger(hour=3, minute=17, timezone=UTC), id="clean", **opts)
        # The leadership lease's heartbeat (and a follower's chance to take over) between planning ticks.
        self.scheduler.add_job(self.heartbeat, IntervalTrigger(seconds=self.leadership.lease / 3), id="lead", **opts)
        self.scheduler.start()

    async def tick(self) -> None:
        try:
            leader = await self.leadership.check()
            scheduler_tick(leader)
            if leader:
                created = await self.planner.tick()
                if created:
                    log.info("planned %d scheduled send(s)", created)
        except Exception:  # a failed tick must not stop the next one; the error is logged, not dropped
            log.exception("planning tick failed")

    async def heartbeat(self) -> None:
        try:
            await self.leadership.check()
        except Exception:
            log.exception("leadership check failed")

    async def drain(self) -> None:
        try:
            await self.sender.drain()
        except Exception:
            log.exception("sending scheduled messages failed")

    async def clean(self) -> None:
        try:
            if self.housekeeping is not None and await self.leadership.check():
                await self.housekeeping()
        except Exception:
            log.exception("housekeeping failed")

    async def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        await self.leadership.release()
