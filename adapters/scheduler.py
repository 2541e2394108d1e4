"""APScheduler wiring: a once-a-minute planning tick on the leader, and a sender on every instance."""

from __future__ import annotations

import asyncio
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
        # APScheduler cancels a running job on shutdown but does not wait for it; stop() does, so no tick
        # or drain is still unwinding inside the database driver when leadership and the engine go away.
        self._running: set[asyncio.Task[object]] = set()

    async def start(self) -> None:
        await self.sender.recover()
        # Every job: one at a time, and a missed run (a busy loop, a pause) runs once, not many times.
        opts = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 50}
        soon = datetime.now(UTC) + timedelta(seconds=1)
        add = self.scheduler.add_job
        add(self._tracked, CronTrigger(second=0, timezone=UTC), [self.tick], id="plan", next_run_time=soon, **opts)
        add(self._tracked, IntervalTrigger(seconds=self.send_every), [self.drain], id="send", **opts)
        add(self._tracked, CronTrigger(hour=3, minute=17, timezone=UTC), [self.clean], id="clean", **opts)
        # The leadership lease's heartbeat (and a follower's chance to take over) between planning ticks.
        add(self._tracked, IntervalTrigger(seconds=self.leadership.lease / 3), [self.heartbeat], id="lead", **opts)
        self.scheduler.start()

    async def _tracked(self, job: Callable[[], Awaitable[None]]) -> None:
        task = asyncio.current_task()
        assert task is not None  # APScheduler runs coroutine jobs as tasks
        self._running.add(task)
        try:
            await job()
        finally:
            self._running.discard(task)

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

    async def stop(self, grace: float = 10.0) -> None:
        self.scheduler.shutdown(wait=False)  # cancels the jobs that are running
        if self._running:
            _, stuck = await asyncio.wait(set(self._running), timeout=grace)
            if stuck:
                log.error("%d scheduler job(s) still running %.0f s after shutdown", len(stuck), grace)
        await self.leadership.release()
