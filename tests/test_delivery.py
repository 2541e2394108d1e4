"""Planner, outbox and sender on SQLite and PostgreSQL, with a fake clock and a fake transport."""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.events import PollAnswerIn
from bot.delivery.sending import Limits, RateLimiter
from bot.engine import Engine
from bot.subscriptions.schedule import zone
from storage.models import OutboxRow, SubscriptionRow
from storage.uow import unit_of_work_factory
from tests.conftest import FakeClock, cmd, virtual_sleep
from tests.harness import Harness, event


def local_times(rows: list[OutboxRow], zone_name: str) -> list[str]:
    tz = zone(zone_name)
    out = []
    for r in rows:
        when = r.not_before if r.not_before.tzinfo else r.not_before.replace(tzinfo=UTC)
        out.append(when.astimezone(tz).strftime("%a %d %H:%M"))
    return out


async def test_daily_question_arrives_at_local_time_across_dst(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 5, 12, tzinfo=UTC)
    await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "America/New_York"), "u1", clock))
    await harness.run_until(datetime(2026, 3, 11, 12, tzinfo=UTC))
    rows = await harness.outbox()
    assert local_times(rows, "America/New_York") == [
        "Thu 05 09:00", "Fri 06 09:00", "Sat 07 09:00", "Sun 08 09:00", "Mon 09 09:00", "Tue 10 09:00",
    ]  # fmt: skip
    assert all(r.status == "sent" for r in rows)
    texts = harness.transport.texts("dm-u1")
    assert len(texts) == 6 and all("🗓 Daily question" in t for t in texts)


async def test_kathmandu_and_a_time_zone_change_mid_week(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 6, 1, 0, tzinfo=UTC)  # Monday
    await harness.dispatcher.dispatch(event(cmd("daily", "07:00", "+05:45"), "u1", clock))
    await harness.run_until(datetime(2026, 6, 3, 2, tzinfo=UTC), timedelta(minutes=15))
    rows = await harness.outbox()
    assert [r.not_before.replace(tzinfo=UTC).strftime("%d %H:%M") for r in rows] == ["01 01:15", "02 01:15", "03 01:15"]
    # Wednesday morning in Kathmandu the user moves to New York: Wednesday is not sent twice.
    await harness.dispatcher.dispatch(event(cmd("daily", "zone", "America/New_York"), "u1", clock))
    await harness.run_until(datetime(2026, 6, 5, 14, tzinfo=UTC), timedelta(minutes=30))
    rows = await harness.outbox()
    assert local_times(rows[3:], "America/New_York") == ["Thu 04 07:00", "Fri 05 07:00"]
    assert len(harness.transport.texts("dm-u1")) == 5


async def test_a_tick_twice_in_the_same_minute_creates_one_send(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 8, 59, tzinfo=UTC)
    await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), "u1", clock))
    clock.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    first = await harness.planner.tick()
    second = await harness.planner.tick()
    await harness.sender.drain()
    await harness.sender.drain()
    assert (first, second) == (1, 0)
    assert len(harness.transport.texts("dm-u1")) == 1


async def test_a_429_storm_loses_nothing(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    users = [f"u{i}" for i in range(25)]
    for u in users:
        await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), u, clock))
    rng = random.Random(7)
    harness.transport.fail = lambda chat, reply: rng.random() < 0.6
    await harness.run_until(datetime(2026, 3, 2, 12, tzinfo=UTC), timedelta(minutes=5))
    assert harness.transport.attempts > len(users)  # the storm really happened
    assert sorted(c for c, _ in harness.transport.sent) == sorted(f"dm-{u}" for u in users)
    assert {r.status for r in await harness.outbox()} == {"sent"}


async def test_a_blocked_user_is_deactivated_and_recorded(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for u in ("u1", "u2"):
        await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), u, clock))
    harness.transport.blocked = {"dm-u2"}
    await harness.run_until(datetime(2026, 3, 3, 10, tzinfo=UTC))
    rows = await harness.outbox()
    failed = [r for r in rows if r.status == "failed"]
    assert len(failed) == 1 and failed[0].chat_id == "dm-u2" and "blocked" in (failed[0].last_error or "")
    assert len(harness.transport.texts("dm-u1")) == 2  # u1 still gets Monday and Tuesday
    async with harness.uow() as store:
        subs = {row.chat_id: row for row in (await store.session.scalars(select(SubscriptionRow))).all()}
    assert subs["dm-u2"].active is False and "blocked" in (subs["dm-u2"].deactivated_reason or "")
    assert subs["dm-u1"].active is True


async def test_replying_later_grades_and_schedules_the_next_review(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), "u1", clock))
    await harness.run_until(datetime(2026, 3, 2, 10, tzinfo=UTC))
    clock.advance(hours=30)  # the next day, before the next question is planned
    replies = await harness.dispatcher.dispatch(event(cmd("done"), "u1", clock))
    assert "haven't written an answer" in replies[0].text
    from bot.core.events import ChoiceIn, TextIn

    await harness.dispatcher.dispatch(
        event(TextIn("It depends; I would explain the trade-off because it matters."), "u1", clock)
    )
    replies = await harness.dispatcher.dispatch(event(cmd("done"), "u1", clock))
    assert "Score:" in replies[0].text and "Reference answer" in replies[0].text
    good = next(b.choice_id for b in replies[-1].buttons if b.label == "Good")
    replies = await harness.dispatcher.dispatch(event(ChoiceIn(good), "u1", clock))
    assert "comes back on" in replies[0].text


async def test_group_quiz_with_three_members_and_leaderboard(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    await harness.dispatcher.dispatch(
        event(cmd("quiz", "count", "3"), "admin", clock, chat="g1", group=True, admin=True)
    )
    replies = await harness.dispatcher.dispatch(
        event(cmd("quiz", "now"), "admin", clock, chat="g1", group=True, admin=True)
    )
    assert "Starting a quiz" in replies[-1].text
    await harness.sender.drain()
    polls = [r.poll for c, r in harness.transport.sent if c == "g1" and r.poll is not None]
    assert len(polls) == 3
    async with harness.uow() as u:
        mapped = [await u.poll_ref("test", f"poll{i}") for i in (1, 2, 3)]
    assert [m[1] for m in mapped if m] == [p.ref for p in polls]
    answers = {"m1": [True, True, True], "m2": [True, False, True], "m3": [False, False, False]}
    for member, rights in answers.items():
        for poll, right in zip(polls, rights, strict=True):
            option = poll.correct_option if right else (poll.correct_option + 1) % len(poll.options)
            await harness.dispatcher.dispatch(
                event(PollAnswerIn(poll.ref, option), member, clock, chat="g1", group=True)
            )
    # A second answer by the same member does not count.
    await harness.dispatcher.dispatch(
        event(PollAnswerIn(polls[0].ref, polls[0].correct_option), "m3", clock, chat="g1", group=True)
    )
    clock.advance(seconds=200)
    await harness.sender.drain()
    results = harness.transport.texts("g1")[-2:]
    assert "Quiz results" in results[0] and "name-m1 3/3" in results[0]
    board = results[1]
    assert board.index("name-m1") < board.index("name-m2") < board.index("name-m3")
    assert "1. name-m1: 3/3" in board and "3. name-m3: 0/3" in board


async def test_rate_limiter_spaces_sends_and_honours_per_chat_limits() -> None:
    now = [0.0]
    limiter = RateLimiter(Limits(per_second=10, per_chat_interval=1.0, per_group_minute=3), clock=lambda: now[0])
    slots = []
    with virtual_sleep(now):
        for chat in ("a", "b", "c", "a", "g", "g", "g", "g"):
            await limiter.acquire(chat, chat == "g")
            slots.append((chat, round(now[0], 3)))
    times = [t for _, t in slots]
    assert all(b - a >= 0.0999 for a, b in itertools.pairwise(times))  # 10 per second overall
    assert slots[3][1] - slots[0][1] >= 1.0  # one per second to chat "a"
    assert slots[7][1] - slots[4][1] >= 60.0  # the fourth group message waits for the minute window


async def test_a_short_burst_to_one_chat_goes_at_once_and_longer_replies_are_paced() -> None:
    now = [0.0]
    limiter = RateLimiter(Limits(per_second=1000, per_chat_interval=1.0, per_chat_burst=3), clock=lambda: now[0])
    with virtual_sleep(now):
        times = []
        for _ in range(5):
            await limiter.acquire("a", False)
            times.append(round(now[0], 2))
        now[0] += 10  # the chat has been quiet: a new burst may go at once
        start = now[0]
        for _ in range(3):
            await limiter.acquire("a", False)
        again = now[0] - start
    assert times[:3] == [0.0, 0.0, 0.0] or max(times[:3]) < 0.01  # three parts of one reply at once
    assert times[3] >= 1.0 and times[4] >= 2.0  # then one a second
    assert again < 0.01


@pytest.mark.parametrize("db_engine", ["postgres"], indirect=True)
async def test_two_instances_on_postgres_send_disjoint_sets(
    engine: Engine, db_engine: AsyncEngine, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    one = Harness(engine, unit_of_work_factory(db_engine), clock, "instance-a")
    two = Harness(engine, unit_of_work_factory(db_engine), clock, "instance-b")
    for i in range(60):
        await one.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), f"u{i}", clock))
    clock.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    await asyncio.gather(one.planner.tick(), two.planner.tick())
    one.sender.batch = two.sender.batch = 5
    await asyncio.gather(one.sender.drain(), two.sender.drain())
    a = {c for c, _ in one.transport.sent}
    b = {c for c, _ in two.transport.sent}
    assert a and b and not (a & b)
    assert a | b == {f"dm-u{i}" for i in range(60)}
