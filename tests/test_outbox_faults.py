"""Faults in the outbox: whatever a row raises, it settles (sent, retried, failed or re-addressed),
and a batch that outlives its lease is not sent twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.events import Inbound, Reply
from bot.delivery.ports import PlannedSend
from bot.delivery.sending import RetryLater
from bot.engine import Engine
from storage.models import OutboxRow, SubscriptionRow
from storage.uow import SqlUnitOfWork
from tests.conftest import FakeClock, cmd
from tests.fakes import FakeTransport
from tests.harness import Harness, event


async def test_bad_rows_do_not_stall_the_queue(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    healthy = [f"u{i}" for i in range(20)]
    for u in [*healthy, "bad1", "bad2", "bad3"]:
        await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), u, clock))
    await harness.dispatcher.dispatch(
        event(cmd("quiz", "on", "09:00", "UTC"), "admin", clock, chat="g-old", group=True, admin=True)
    )
    harness.transport.moved = {"g-old": "g-new"}  # the group became a supergroup
    harness.transport.errors = {"dm-bad1": RuntimeError("EndPointNotFound"), "dm-bad2": KeyError("token")}
    compose = harness.dispatcher.dispatch_scheduled

    async def broken_compose(ev: Inbound, outbox_id: int) -> list[Reply]:
        if ev.chat_id == "dm-bad3":
            raise ValueError("cannot compose")
        return await compose(ev, outbox_id)

    harness.dispatcher.dispatch_scheduled = broken_compose  # type: ignore[method-assign,assignment]
    harness.sender.batch = 5  # the bad rows alone would fill the first batch
    clock.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    await harness.planner.tick()
    for _ in range(10):  # ten drains over 25 minutes
        await harness.sender.drain()
        clock.advance(minutes=2.5)
    assert sorted({c for c, _ in harness.transport.sent if c.startswith("dm-u")}) == sorted(f"dm-{u}" for u in healthy)
    assert any(r.poll for c, r in harness.transport.sent if c == "g-new")  # re-addressed, not lost
    rows = {r.chat_id: r for r in await harness.outbox() if r.job in ("daily", "quiz")}
    for bad in ("dm-bad1", "dm-bad2", "dm-bad3"):
        assert rows[bad].status == "pending" and rows[bad].attempts >= 3 and rows[bad].last_error  # backing off
    # Eventually the bad rows are recorded as failed, with the reason.
    for _ in range(12):
        clock.advance(minutes=15)
        await harness.sender.drain()
    rows = {r.chat_id: r for r in await harness.outbox() if r.job in ("daily", "quiz")}
    assert rows["dm-bad1"].status == "failed" and "EndPointNotFound" in (rows["dm-bad1"].last_error or "")
    assert rows["dm-bad3"].status == "failed" and "cannot compose" in (rows["dm-bad3"].last_error or "")
    assert rows["dm-bad1"].attempts == harness.sender.max_attempts
    async with harness.uow() as store:
        subs = {(s.kind, s.chat_id): s for s in (await store.session.scalars(select(SubscriptionRow))).all()}
    assert ("quiz", "g-new") in subs and subs[("quiz", "g-new")].active  # the group's settings moved
    assert ("quiz", "g-old") not in subs


async def test_a_moved_chat_keeps_its_existing_settings(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for chat, count in (("g-old", "3"), ("g-new", "5")):
        await harness.dispatcher.dispatch(
            event(cmd("quiz", "count", count), "admin", clock, chat=chat, group=True, admin=True)
        )
    async with harness.uow() as store:
        await store.move_chat("test", "g-old", "g-new")
    async with harness.uow() as store:
        subs = (await store.session.scalars(select(SubscriptionRow).order_by(SubscriptionRow.chat_id))).all()
    assert [(s.chat_id, s.settings["count"]) for s in subs] == [("g-new", 5), ("g-old", 3)]


class SlowTransport(FakeTransport):
    """Each send takes ten (fake) seconds, as under 429 waits; partway through, another instance drains."""

    def __init__(self, clock: FakeClock, other: Harness) -> None:
        super().__init__()
        self.clock, self.other, self.other_ran = clock, other, False

    async def send(
        self, chat_id: str, chat_kind: str, reply: Reply, thread_id: str | None = None
    ) -> tuple[str, str] | None:
        self.clock.advance(seconds=10)
        if self.clock.now - datetime(2026, 3, 2, 9, 0, tzinfo=UTC) > timedelta(minutes=2) and not self.other_ran:
            self.other_ran = True
            await self.other.sender.drain()  # the first batch's lease has run out by now
        return await super().send(chat_id, chat_kind, reply)


def two_instances(
    engine: Engine,
    uow_factory: Callable[[], SqlUnitOfWork],
    clock: FakeClock,
    transport: Callable[[Harness], FakeTransport],
) -> tuple[Harness, Harness]:
    """Two sender instances on one database; the first sends through `transport`, which may make
    the second drain at a chosen moment."""
    one = Harness(engine, uow_factory, clock, "instance-a")
    two = Harness(engine, uow_factory, clock, "instance-b")
    one.transport = transport(two)
    one.sender.transports = {"test": one.transport}
    return one, two


async def test_a_batch_that_outlives_its_lease_is_not_sent_twice(
    engine: Engine, uow_factory: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    one, two = two_instances(engine, uow_factory, clock, lambda other: SlowTransport(clock, other))
    one.sender.workers = 1
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for i in range(40):
        await one.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), f"u{i}", clock))
    clock.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    await one.planner.tick()
    await one.sender.drain()
    sent = [c for c, _ in one.transport.sent] + [c for c, _ in two.transport.sent]
    assert two.transport.sent and sorted(sent) == sorted(f"dm-u{i}" for i in range(40))  # each exactly once
    assert {r.status for r in await one.outbox()} == {"sent"}


class ThrottledTransport(FakeTransport):
    """The second part of a reply gets three 429s asking for 50 s each (waits skipped on the fake
    clock); by the last one the row's first claim would have run out, and another instance drains."""

    def __init__(self, clock: FakeClock, other: Harness) -> None:
        super().__init__()
        self.clock, self.other, self.throttled = clock, other, 0

    async def send(
        self, chat_id: str, chat_kind: str, reply: Reply, thread_id: str | None = None
    ) -> tuple[str, str] | None:
        if reply.text == "part 2" and self.throttled < 3:
            self.throttled += 1
            self.clock.advance(seconds=50)
            if self.throttled == 3:
                await self.other.sender.drain()
            raise RetryLater("Too Many Requests", 0.001)
        return await super().send(chat_id, chat_kind, reply)


async def test_a_row_held_up_by_429s_is_not_sent_twice(
    engine: Engine, uow_factory: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    one, two = two_instances(engine, uow_factory, clock, lambda other: ThrottledTransport(clock, other))
    async with one.uow() as store:  # queued replies: sent as stored, nothing to compose first
        await store.enqueue_replies("test", "dm-u1", "private", [Reply("part 1"), Reply("part 2")], "429", clock())
    clock.advance(seconds=31)
    assert await one.sender.drain() == 1
    assert two.transport.sent == [] and one.transport.texts("dm-u1") == ["part 1", "part 2"]
    assert {r.status for r in await one.outbox()} == {"sent"}


async def test_the_claim_query_reads_the_index(db_engine: AsyncEngine, harness: Harness, clock: FakeClock) -> None:
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if "FROM outbox" in statement and statement.lstrip().startswith("SELECT"):
            statements.append((statement, params))

    event_target = db_engine.sync_engine
    sa_event.listen(event_target, "before_cursor_execute", capture)
    try:
        async with harness.uow() as store:
            await store.claim(clock(), "i1", 100, timedelta(minutes=2))
    finally:
        sa_event.remove(event_target, "before_cursor_execute", capture)
    statement, params = statements[-1]
    async with db_engine.connect() as conn:
        if db_engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params))
        else:
            await conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: ask whether the index can serve
            plan = " ".join(str(r[0]) for r in await conn.exec_driver_sql(f"EXPLAIN {statement}", params))
    assert "ix_outbox_status_not_before" in plan, plan


async def test_settled_rows_are_pruned_and_pending_ones_kept(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for u in ("u1", "u2", "u3"):
        await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), u, clock))
    harness.transport.blocked = {"dm-u2"}
    async with harness.uow() as store:  # a reply queued after an outage, with an attachment, that then failed
        await store.enqueue_replies("test", "dm-u3", "private", [Reply("chart")], "outage", clock())
        await store.session.execute(update(OutboxRow).where(OutboxRow.job == "retry").values(status="failed"))
    await harness.run_until(datetime(2026, 3, 2, 10, tzinfo=UTC))
    clock.advance(days=31)
    async with harness.uow() as store:
        await store.add_outbox(
            [PlannedSend("later", "daily", "test", "dm-u1", "private", "u1", None, "", clock())], clock()
        )
        assert await store.prune_outbox(clock() - timedelta(days=30)) == 4  # two sent, two failed
    assert [r.key for r in await harness.outbox()] == ["later"]


async def test_marks_with_a_claim_that_ran_out_are_refused(harness: Harness, clock: FakeClock) -> None:
    async with harness.uow() as store:
        await store.add_outbox(
            [PlannedSend("k", "daily", "test", "dm-u1", "private", "u1", None, "", clock())], clock()
        )
        (ours,) = await store.claim(clock(), "instance-a", 10, timedelta(minutes=2))
    clock.advance(minutes=3)  # our send outlived the lease; another instance took the row over
    async with harness.uow() as store:
        (theirs,) = await store.claim(clock(), "instance-b", 10, timedelta(minutes=2))
        assert not await store.hold(ours.id, ours.token, clock() + timedelta(minutes=2))
        assert not await store.mark_sent(ours.id, ours.token, clock())
        assert not await store.mark_retry(ours.id, ours.token, clock(), "late")
        assert not await store.mark_failed(ours.id, ours.token, "late")
        assert await store.mark_sent(theirs.id, theirs.token, clock())
    (row,) = await harness.outbox()
    assert row.status == "sent" and row.claimed_by == "instance-b" and row.attempts == 0 and row.last_error is None
