"""Scheduled sends: the planner writes due sends to the outbox; the sender drains it through each
platform's transport at a steady rate, retrying what can be retried and recording the rest.

Delivery is at least once: a row is marked sent only after the platform accepted every message,
so a crash can at worst repeat the one send that was in flight; nothing planned is lost. A claim
carries a token and its lease is renewed before every platform call, so a row another instance
took over (after our lease ran out) is never sent by us as well.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.core.dispatcher import Dispatcher
from bot.core.events import Inbound, PollAnswerIn, Reply, TickIn
from bot.delivery.ports import ClaimedSend, OutboxStores
from bot.delivery.sending import Blocked, Moved, RateLimiter, Rejected, RetryLater, Transport, with_retries
from bot.subscriptions.schedule import local_date, next_run, parse_clock

log = logging.getLogger(__name__)
SENDER_WORKERS = 4  # rows in flight at once per instance


class Planner:
    """Turns due subscriptions into outbox rows. The row key (subscription and local date) makes a
    second tick in the same minute, or a second instance, harmless."""

    def __init__(self, uow: OutboxStores, clock: Callable[[], datetime], batch: int = 500) -> None:
        self.uow = uow
        self.clock = clock
        self.batch = batch

    async def tick(self) -> int:
        """Plan everything due now; returns how many subscriptions were planned."""
        now = self.clock()
        planned = 0
        while True:
            async with self.uow() as store:
                groups = await store.due_groups(now, self.batch)
            for group in groups:
                day = local_date(group.next_run, group.zone)
                at = parse_clock(group.at)
                assert at is not None
                following = next_run(max(now, group.next_run), at, group.zone, group.days)
                async with self.uow() as store:
                    planned += await store.plan_group(group, f":{day.isoformat()}:{group.at}", following, now)
            if len(groups) < self.batch:
                return planned


class LostClaim(Exception):
    """Another instance took this row over (our lease ran out): leave it to them."""


class Sender:
    def __init__(
        self,
        uow: OutboxStores,
        dispatcher: Dispatcher,
        transports: dict[str, Transport],
        limiters: dict[str, RateLimiter],
        clock: Callable[[], datetime],
        instance: str,
        *,
        batch: int = 100,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 8,
        max_inline_retries: int = 5,
        workers: int = SENDER_WORKERS,
        on_sent: Callable[[int], None] | None = None,
    ) -> None:
        self.uow = uow
        self.dispatcher = dispatcher
        self.transports = transports
        self.limiters = limiters
        self.clock = clock
        self.instance = instance
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts
        self.max_inline_retries = max_inline_retries
        self.workers = workers
        self.on_sent = on_sent

    async def recover(self) -> int:
        """At start-up: rows this instance had claimed before a crash are claimable again at once,
        instead of after their lease runs out (an instance keeps its name across restarts)."""
        async with self.uow() as store:
            return await store.release_claims(self.instance)

    async def drain(self) -> int:
        """Send everything due now; returns how many rows were sent."""
        sent = 0
        while True:
            async with self.uow() as store:
                rows = await store.claim(self.clock(), self.instance, self.batch, self.lease)
            if not rows:
                return sent
            # A few rows in flight at once: composing one row's question overlaps sending another's,
            # while the shared rate limiter keeps the overall pace.
            queue = list(rows)

            async def worker(pending: list[ClaimedSend]) -> int:
                done = 0
                while pending:
                    done += await self._deliver(pending.pop(0))
                return done

            sent += sum(await asyncio.gather(*(worker(queue) for _ in range(min(self.workers, len(rows))))))

    async def _deliver(self, row: ClaimedSend) -> int:
        """Every outcome settles the row: sent, retried later (counted), or failed with the reason.
        A row left claimed and uncounted would come back first in every batch and stall the queue."""
        try:
            return await self._attempt(row)
        except LostClaim:
            log.info("outbox %d: claimed by another instance meanwhile; left to it", row.id)
            return 0
        except Exception as exc:  # composing or sending failed in a way nobody mapped: counted and retried
            log.exception("outbox %d: unexpected error", row.id)
            await self._retry(row, f"{type(exc).__name__}: {exc}", None)
            return 0

    async def _attempt(self, row: ClaimedSend) -> int:
        transport = self.transports.get(row.platform)
        if transport is None:
            await self._finish(row, failed=f"no transport for platform {row.platform!r}")
            return 0
        replies = row.replies
        if replies is None:
            await self._hold(row)
            event = Inbound(
                row.platform,
                row.chat_id,
                "group" if row.chat_kind == "group" else "private",
                row.external_user_id,
                "",
                f"outbox:{row.id}",
                self.clock(),
                TickIn(row.job, row.ref),
                thread_id=row.thread_id,
            )
            replies = await self.dispatcher.dispatch_scheduled(event, row.id)
            if not replies:  # composed by an earlier attempt that crashed before sending
                async with self.uow() as store:
                    replies = await store.outbox_replies(row.id) or []
        try:
            try:
                await self._send_all(transport, row, row.chat_id, replies)
            except Moved as moved:  # settings, quizzes and queued sends follow the chat to its new id
                async with self.uow() as store:
                    await store.move_chat(row.platform, row.chat_id, moved.new_chat_id)
                log.info("chat %s:%s moved to %s", row.platform, row.chat_id, moved.new_chat_id)
                row = replace(row, chat_id=moved.new_chat_id)
                await self._send_all(transport, row, row.chat_id, replies)
        except Blocked as exc:
            async with self.uow() as store:
                n = await store.deactivate_chat(row.platform, row.chat_id, f"blocked: {exc}")
                await store.mark_failed(row.id, row.token, f"blocked: {exc}")
            log.warning("chat %s:%s blocked the bot; %d subscription(s) deactivated", row.platform, row.chat_id, n)
            return 0
        except Rejected as exc:
            await self._finish(row, failed=f"rejected: {exc}")
            return 0
        except RetryLater as exc:
            await self._retry(row, str(exc), exc.retry_after)
            return 0
        async with self.uow() as store:
            if not await store.mark_sent(row.id, row.token, self.clock()):
                raise LostClaim()  # another instance holds the row now; it records the send
        if self.on_sent is not None:
            self.on_sent(row.id)
        return 1

    async def _send_all(
        self, transport: Transport, row: ClaimedSend, chat_id: str, replies: list[Reply]
    ) -> list[tuple[str, str]]:
        polls: list[tuple[str, str]] = []
        for reply in replies:
            if reply.private and row.chat_kind == "group":
                continue
            poll = await self._send_one(transport, row, chat_id, reply)
            if poll:
                # Recorded at once, not after the whole row: members answer the first poll while
                # the next ones are still going out, and an answer needs its poll known.
                async with self.uow() as store:
                    await store.record_polls(row.platform, chat_id, [poll], self.clock())
                await self._count_held_votes(transport, row, chat_id, poll)
                polls.append(poll)
        return polls

    async def _count_held_votes(
        self, transport: Transport, row: ClaimedSend, chat_id: str, poll: tuple[str, str]
    ) -> None:
        """Votes that reached the adapter before the poll was recorded. Taken after the record is
        committed, so a vote held meanwhile is seen either here or by the adapter's own second look."""
        poll_id, ref = poll
        async with self.uow() as store:
            votes = await store.take_votes(row.platform, poll_id)
        for vote in votes:
            event = Inbound(row.platform, chat_id, "group", vote.user_id, vote.name, vote.event_id, vote.received_at,
                            PollAnswerIn(ref, vote.option))  # fmt: skip
            try:
                replies = await self.dispatcher.dispatch(event)
            except Exception:  # one vote failing must not re-send the quiz's polls: logged with its trace
                log.exception("outbox %d: a held vote on poll %s could not be counted", row.id, poll_id)
                continue
            for reply in replies:
                if not reply.private:  # the poll itself tells the member whether they were right
                    await self._send_one(transport, row, chat_id, reply)

    async def _retry(self, row: ClaimedSend, error: str, retry_after: float | None) -> None:
        """Back off exponentially (or as the platform asked); after max_attempts, record the failure."""
        if row.attempts + 1 >= self.max_attempts:
            await self._finish(row, failed=f"gave up after {row.attempts + 1} attempts: {error}")
            return
        wait = retry_after or min(600.0, 5.0 * 2**row.attempts)
        async with self.uow() as store:
            await store.mark_retry(row.id, row.token, self.clock() + timedelta(seconds=wait), error)

    async def _hold(self, row: ClaimedSend) -> None:
        """Renew this row's lease right before each platform call, so a row is never sent after another
        instance has claimed it, however long the batch or a 429 wait took; raises LostClaim if it has."""
        async with self.uow() as store:
            if not await store.hold(row.id, row.token, self.clock() + self.lease):
                raise LostClaim()

    async def _send_one(
        self, transport: Transport, row: ClaimedSend, chat_id: str, reply: Reply
    ) -> tuple[str, str] | None:
        limiter = self.limiters.get(row.platform)

        async def attempt() -> tuple[str, str] | None:
            if limiter is not None:
                await limiter.acquire(chat_id, row.chat_kind == "group")
            await self._hold(row)
            return await transport.send(chat_id, row.chat_kind, reply, row.thread_id)

        return await with_retries(attempt, self.max_inline_retries, longest_wait=60)

    async def _finish(self, row: ClaimedSend, *, failed: str) -> None:
        log.warning("outbox %d failed: %s", row.id, failed)
        async with self.uow() as store:
            await store.mark_failed(row.id, row.token, failed)
