"""/stats, /export and /forget, through the dispatcher on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from matplotlib import image
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.dispatcher import Dispatcher
from bot.core.events import ChoiceIn, Inbound, Payload, PollAnswerIn, Reply, TextIn, TickIn
from bot.delivery.ports import HeldVote
from bot.engine import Engine
from bot.progress.charts import render_stats
from bot.progress.records import StatsView
from storage.database import _alembic_config, session_factory, upgrade
from storage.models import Base, SubscriptionRow, User
from storage.uow import SqlUnitOfWork
from storage.userdata import disputes_for_authors, usage_report
from tests.conftest import ROOT, FakeClock, cmd
from tests.harness import Harness, event


def pixels_vary(png: bytes) -> bool:
    img = image.imread(io.BytesIO(png), format="png")
    return bool(img.std() > 0.05) and img.shape[0] >= 400 and img.shape[1] >= 800


@pytest.mark.parametrize("days", [0, 1, 365])
def test_chart_renders_for_no_data_one_answer_and_a_year(days: int) -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    view = StatsView(
        sections={"7.1": (3.2, 4), "5.2.1": (1.1, 2), "8.3": (2.4, 5)} if days else {},
        trend=[((start + timedelta(days=d)).date().isoformat(), 1.0 + (d % 30) / 10, 1) for d in range(days)],
        rounds_completed=days // 7,
        seconds_practised=days * 300,
        today=(start + timedelta(days=max(days - 1, 0))).date(),
        practice_days=frozenset((start + timedelta(days=d)).date() for d in range(days)),
    )
    png = render_stats(view, "Ada <script>")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert 10_000 < len(png) < 2_000_000
    assert pixels_vary(png)


Send = Callable[[Payload, str], Awaitable[list[Reply]]]


def via(dispatcher: Dispatcher, clock: FakeClock) -> Send:
    return lambda payload, user: dispatcher.dispatch(event(payload, user, clock))


async def full_round(send: Send | Dispatcher, clock: FakeClock, user: str) -> None:
    send = via(send, clock) if isinstance(send, Dispatcher) else send
    await send(cmd("mock", "technical", "hard", "3"), user)
    for _ in range(3):
        await send(
            TextIn("By Bayes with the prior the posterior is about 17 percent because false positives dominate."), user
        )
        replies = await send(cmd("done"), user)
        buttons = {b.label: b.choice_id for r in replies for b in r.buttons}
        if "Skip follow-up" in buttons:
            replies = await send(ChoiceIn(buttons["Skip follow-up"]), user)
            buttons = {b.label: b.choice_id for r in replies for b in r.buttons}
        await send(ChoiceIn(buttons["Hard"]), user)


async def test_stats_reply_has_a_chart_and_a_summary(harness: Harness, clock: FakeClock) -> None:
    await full_round(harness.dispatcher, clock, "u1")
    replies = await harness.dispatcher.dispatch(event(cmd("stats"), "u1", clock))
    assert len(replies) == 1 and replies[0].attachment is not None
    assert replies[0].attachment.mime == "image/png" and pixels_vary(replies[0].attachment.data)
    assert "3 answers, 1 round completed" in replies[0].text and "Review next" in replies[0].text
    assert "Streak: 1 day (best 1)" in replies[0].text  # practice today counts, with or without a daily question


def test_a_streak_counts_days_in_a_row_and_today_stays_open() -> None:
    d = date(2026, 3, 10)
    days = frozenset({d - timedelta(days=n) for n in (1, 2, 3, 7, 8, 9, 10, 11)})
    view = StatsView(today=d, practice_days=days)
    assert (view.streak, view.best_streak) == (3, 5)  # nothing yet today: yesterday's run still stands
    assert StatsView(today=d + timedelta(days=1), practice_days=days).streak == 0  # a whole day missed
    assert StatsView(today=d, practice_days=days | {d}).streak == 4


async def test_history_shows_a_skipped_daily_question_as_skipped(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), "u1", clock))
    await harness.run_until(datetime(2026, 3, 2, 10, tzinfo=UTC))
    await harness.sender.drain()
    sent = next(r for _, r in harness.transport.sent if "Daily question" in r.text)
    skip = next(b.choice_id for b in sent.buttons if b.label == "Skip")
    await harness.dispatcher.dispatch(event(ChoiceIn(skip), "u1", clock))
    await full_round(harness.dispatcher, clock, "u1")
    text = (await harness.dispatcher.dispatch(event(cmd("history"), "u1", clock)))[0].text
    assert "daily question: skipped" in text and "no score" not in text
    assert "technical (finished): " in text


async def test_export_round_trips(harness: Harness, clock: FakeClock) -> None:
    await full_round(harness.dispatcher, clock, "u1")
    await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "Europe/Berlin"), "u1", clock))
    replies: list[Reply] = await harness.dispatcher.dispatch(event(cmd("export"), "u1", clock))
    files = {r.attachment.filename: r.attachment.data for r in replies if r.attachment}
    data = json.loads(files["mock-interviewer-export.json"])
    assert data["profile"]["display_name"] == "name-u1"
    assert data["identities"] == [{"platform": "test", "id": "u1"}]
    assert [r["status"] for r in data["rounds"]] == ["finished"] and data["rounds"][0]["scorecard"]["questions"] == 3
    assert len(data["answers"]) == 3 and {a["self_rating"] for a in data["answers"]} == {"hard"}
    assert data["answers"][0]["answer_text"].startswith("By Bayes")
    assert data["settings"][0]["zone"] == "Europe/Berlin"
    rows = list(csv.reader(io.StringIO(files["fsrs-review-log.csv"].decode())))
    assert rows[0] == ["card_id", "review_time", "review_rating"]
    assert len(rows) == 4 and {r[2] for r in rows[1:]} == {"2"}
    assert all(int(r[1]) > 1_600_000_000_000 for r in rows[1:])  # milliseconds


async def test_forget_leaves_nothing(
    harness: Harness, clock: FakeClock, db_engine: AsyncEngine, uow_factory: Callable[[], SqlUnitOfWork]
) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    await full_round(harness.dispatcher, clock, "u1")
    await full_round(harness.dispatcher, clock, "u2")  # someone else's data must stay
    await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), "u1", clock))
    await harness.run_until(datetime(2026, 3, 2, 10, tzinfo=UTC))  # a daily question is sent
    await harness.dispatcher.dispatch(event(cmd("quiz", "count", "1"), "u1", clock, chat="g1", group=True, admin=True))
    await harness.dispatcher.dispatch(event(cmd("quiz", "now"), "u1", clock, chat="g1", group=True, admin=True))
    await harness.sender.drain()
    poll = next(r.poll for _, r in harness.transport.sent if r.poll is not None)
    await harness.dispatcher.dispatch(event(PollAnswerIn(poll.ref, 0), "u1", clock, chat="g1", group=True))
    m = await harness.dispatcher.dispatch(event(TextIn("hi"), "u1", clock))
    assert m
    async with uow_factory() as store:
        await store.hold_vote("test", HeldVote("p-never-recorded", "u1", "name-u1", 0, "pa-u1", clock.now))
        uid = await store.user_for("test", "u1", "x")
        other = await store.user_for("test", "u2", "x")
    replies = await harness.dispatcher.dispatch(event(cmd("forget"), "u1", clock))
    yes = next(b.choice_id for b in replies[0].buttons if b.label.startswith("Yes"))
    replies = await harness.dispatcher.dispatch(event(ChoiceIn(yes), "u1", clock))
    assert "deleted" in replies[0].text
    leftovers = []
    others = 0
    async with db_engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in (await conn.execute(select(table))).mappings():
                if (
                    row.get("user_id") == uid
                    or (row.get("id") == uid and table.name == "users")
                    or any(
                        isinstance(v, str) and (v == "u1" or v.startswith("dm-u1") or "name-u1" in v)
                        for v in row.values()
                    )
                ):
                    leftovers.append((table.name, dict(row)))
                if row.get("user_id") == other:
                    others += 1
    assert leftovers == []
    assert others > 0
    # Writing again starts fresh rather than failing.
    replies = await harness.dispatcher.dispatch(event(cmd("history"), "u1", clock))
    assert "No finished rounds" in replies[0].text


async def test_forget_can_be_cancelled(harness: Harness, clock: FakeClock) -> None:
    await full_round(harness.dispatcher, clock, "u1")
    replies = await harness.dispatcher.dispatch(event(cmd("forget"), "u1", clock))
    cancel = next(b.choice_id for b in replies[0].buttons if b.label == "Cancel")
    replies = await harness.dispatcher.dispatch(event(ChoiceIn(cancel), "u1", clock))
    assert "Nothing was deleted" in replies[0].text
    replies = await harness.dispatcher.dispatch(event(cmd("history"), "u1", clock))
    assert "technical (finished)" in replies[0].text


async def test_usage_report(harness: Harness, clock: FakeClock, db_engine: AsyncEngine) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    await full_round(harness.dispatcher, clock, "u1")
    for u in ("u1", "u2"):
        await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), u, clock))
    harness.transport.blocked = {"dm-u2"}
    await harness.run_until(datetime(2026, 3, 2, 10, tzinfo=UTC))
    async with session_factory(db_engine)() as session:
        figures = await usage_report(session, clock.now)
    assert figures["users"] == 2 and figures["identities"] == {"test": 2}
    assert figures["subscriptions"] == {"daily active": 1, "daily inactive": 1}
    assert figures["rounds_per_day"] == [("2026-03-02", 1)]
    assert figures["outbox"] == {"sent": 1, "failed": 1}
    assert figures["failures"][0][2] == 1 and "blocked" in figures["failures"][0][1]


def test_report_command_runs(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "users: 0" in done.stdout and "delivery failures: none" in done.stdout


async def test_a_disputed_point_reaches_rubric_authors_and_goes_with_forget(
    harness: Harness, clock: FakeClock, db_engine: AsyncEngine
) -> None:
    send = via(harness.dispatcher, clock)
    await send(cmd("mock", "technical", "hard", "3"), "u1")
    await send(TextIn("I would apply Bayes' rule with the 1% prior."), "u1")
    replies = await send(cmd("done"), "u1")

    def buttons(rs: list[Reply]) -> dict[str, str]:
        return {b.label: b.choice_id for r in rs for b in r.buttons}

    if "Skip follow-up" in buttons(replies):
        replies = await send(ChoiceIn(buttons(replies)["Skip follow-up"]), "u1")
    replies = await send(ChoiceIn(buttons(replies)["This grade is wrong"]), "u1")
    label, choice = next((k, v) for k, v in buttons(replies).items() if k.startswith("I did say:"))
    await send(ChoiceIn(choice), "u1")
    await send(TextIn("My second sentence says exactly this."), "u1")

    async with session_factory(db_engine)() as session:
        disputes = await disputes_for_authors(session)
    assert len(disputes) == 1
    d = disputes[0]
    assert d["question_id"] == "fx-bayes-test" and d["answer"].startswith("I would apply Bayes")
    assert label.removeprefix("I did say: ").rstrip("…") in d["point"]
    assert d["grader_status"] in ("missed", "mentioned", "contradicted")
    assert d["reason"] == "My second sentence says exactly this."
    assert "u1" not in json.dumps(d) and "name-u1" not in json.dumps(d)

    replies = await send(cmd("export"), "u1")
    files = {r.attachment.filename: r.attachment.data for r in replies if r.attachment}
    exported = json.loads(files["mock-interviewer-export.json"])
    assert [x["reason"] for x in exported["disputes"]] == ["My second sentence says exactly this."]

    replies = await send(cmd("forget"), "u1")
    yes = next(b.choice_id for b in replies[0].buttons if b.label.startswith("Yes"))
    await send(ChoiceIn(yes), "u1")
    async with session_factory(db_engine)() as session:
        assert await disputes_for_authors(session) == []


def test_disputes_export_command_writes_yaml(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    out = tmp_path / "disputes.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "disputes", "export", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "0 disputes" in done.stdout and out.read_text() == "disputes: []\n"


async def forget(harness: Harness, clock: FakeClock, user: str) -> None:
    replies = await harness.dispatcher.dispatch(event(cmd("forget"), user, clock))
    yes = next(b.choice_id for b in replies[0].buttons if b.label.startswith("Yes"))
    assert "deleted" in (await harness.dispatcher.dispatch(event(ChoiceIn(yes), user, clock)))[0].text


async def rows_mentioning(db_engine: AsyncEngine, user: str) -> list[tuple[str, dict[str, object]]]:
    found = []
    async with db_engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in (await conn.execute(select(table))).mappings():
                if any(user in json.dumps(v, default=str) for v in row.values()):
                    found.append((table.name, dict(row)))
    return found


async def test_forget_keeps_the_groups_data_and_removes_every_copy_of_the_user(
    harness: Harness, clock: FakeClock, db_engine: AsyncEngine
) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def in_group(payload: Payload, user: str, admin: bool = False) -> Inbound:
        return event(payload, user, clock, chat="g1", group=True, admin=admin)

    await harness.dispatcher.dispatch(in_group(cmd("quiz", "on", "18:00", "UTC"), "admin", True))
    await harness.dispatcher.dispatch(in_group(cmd("quiz", "count", "1"), "admin", True))
    await harness.dispatcher.dispatch(in_group(cmd("quiz", "now"), "admin", True))
    await harness.sender.drain()
    poll = next(r.poll for _, r in harness.transport.sent if r.poll is not None)
    for member in ("m1", "m2"):
        await harness.dispatcher.dispatch(in_group(PollAnswerIn(poll.ref, 0), member))
    async with harness.uow() as store:  # m1's feedback, queued in the group after an outage
        await store.enqueue_replies("test", "g1", "group", [Reply("m1's feedback")], "429", clock(), "m1")
    clock.advance(seconds=200)
    harness.transport.fail = lambda chat, reply: chat == "g1"  # the results are composed, then held up
    await harness.sender.drain()
    assert "name-m1" in json.dumps([r.replies for r in await harness.outbox()])

    await forget(harness, clock, "m1")  # a participant: only they saved a state in the group
    await forget(harness, clock, "admin")  # the admin who configured the group's quiz
    assert await rows_mentioning(db_engine, "m1") == [] and await rows_mentioning(db_engine, "admin") == []
    async with harness.uow() as store:
        quiz = (await store.session.scalars(select(SubscriptionRow).where(SubscriptionRow.kind == "quiz"))).one()
    assert quiz.chat_id == "g1" and quiz.active and quiz.settings["count"] == 1  # the group's settings stay
    harness.transport.fail = lambda chat, reply: False
    clock.advance(minutes=10)
    await harness.sender.drain()
    results = [t for t in harness.transport.texts("g1") if "Quiz results" in t]
    assert results and "name-m2" in results[0] and "name-m1" not in results[0]  # the quiz still ended
    assert "m1's feedback" not in " ".join(harness.transport.texts("g1"))


async def test_forget_scrubs_only_the_users_own_name_from_group_results(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for command in (cmd("quiz", "count", "1"), cmd("quiz", "now")):
        await harness.dispatcher.dispatch(event(command, "admin", clock, chat="g1", group=True, admin=True))
    await harness.sender.drain()
    poll = next(r.poll for _, r in harness.transport.sent if r.poll is not None)
    for member in ("a", "ab"):  # "name-a" is a prefix of the other member's "name-ab"
        await harness.dispatcher.dispatch(event(PollAnswerIn(poll.ref, 0), member, clock, chat="g1", group=True))
    clock.advance(seconds=200)
    harness.transport.fail = lambda chat, reply: chat == "g1"  # the results are composed, then held up
    await harness.sender.drain()
    await forget(harness, clock, "a")
    harness.transport.fail = lambda chat, reply: False
    clock.advance(minutes=10)
    await harness.sender.drain()
    results = next(t for t in harness.transport.texts("g1") if "Quiz results" in t)
    assert "name-ab" in results and "(a former member)b" not in results  # the other member keeps their name
    assert "(a former member) " in results and "name-a " not in results  # the forgotten one's name went


async def test_a_daily_send_in_flight_during_forget_does_not_recreate_the_user(
    harness: Harness, clock: FakeClock, db_engine: AsyncEngine
) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), "u1", clock))
    clock.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    await harness.planner.tick()
    compose = harness.dispatcher.dispatch_scheduled

    async def forget_meanwhile(ev: Inbound, outbox_id: int) -> list[Reply]:
        await forget(harness, clock, "u1")  # claimed already, composed after the deletion
        return await compose(ev, outbox_id)

    harness.dispatcher.dispatch_scheduled = forget_meanwhile  # type: ignore[method-assign,assignment]
    await harness.sender.drain()
    assert harness.transport.sent == []
    assert await rows_mentioning(db_engine, "u1") == []


async def test_forget_on_another_instance_while_a_daily_question_is_composed(
    engine: Engine,
    harness: Harness,
    clock: FakeClock,
    db_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), "u1", clock))
    clock.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    await harness.planner.tick()
    other = Harness(engine, harness.uow, clock, "i2")  # its own per-conversation locks, as another process
    handle, forgotten = engine.handle, list[str]()

    async def handle_then_forget(ev: Inbound, state: Any, data: Any) -> Any:
        turn = await handle(ev, state, data)
        if isinstance(ev.payload, TickIn) and not forgotten:
            forgotten.append(ev.user_id)
            await forget(other, clock, "u1")  # after the scheduled event's read, before its commit
        return turn

    monkeypatch.setattr(engine, "handle", handle_then_forget)
    await harness.sender.drain()
    assert forgotten == ["u1"] and harness.transport.sent == []
    assert await rows_mentioning(db_engine, "u1") == []


async def test_export_has_quiz_answers_link_codes_queued_sends_and_every_review(
    harness: Harness, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    await harness.dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), "u1", clock))
    await harness.run_until(datetime(2026, 3, 2, 9, 30, tzinfo=UTC), timedelta(minutes=30))
    await harness.dispatcher.dispatch(event(TextIn("Bias and variance trade off because of capacity."), "u1", clock))
    replies = await harness.dispatcher.dispatch(event(cmd("done"), "u1", clock))
    good = next(b.choice_id for b in replies[-1].buttons if b.label == "Good")
    clock.advance(hours=2)  # rated two hours after writing the answer
    rated_at = clock.now
    await harness.dispatcher.dispatch(event(ChoiceIn(good), "u1", clock))
    await harness.run_until(datetime(2026, 3, 3, 9, 30, tzinfo=UTC), timedelta(hours=1))
    replies = await harness.dispatcher.dispatch(event(cmd("skip"), "u1", clock))  # Tuesday's question, skipped
    skipped_at = clock.now
    await harness.dispatcher.dispatch(
        event(cmd("quiz", "count", "1"), "admin", clock, chat="g1", group=True, admin=True)
    )
    await harness.dispatcher.dispatch(event(cmd("quiz", "now"), "admin", clock, chat="g1", group=True, admin=True))
    await harness.sender.drain()
    poll = next(r.poll for _, r in harness.transport.sent if r.poll is not None)
    await harness.dispatcher.dispatch(event(PollAnswerIn(poll.ref, 1), "u1", clock, chat="g1", group=True))
    await harness.dispatcher.dispatch(event(cmd("link"), "u1", clock))
    async with harness.uow() as store:
        await store.enqueue_replies("test", "g1", "group", [Reply("for u1")], "429", clock(), "u1")
    replies = await harness.dispatcher.dispatch(event(cmd("export"), "u1", clock))
    files = {r.attachment.filename: r.attachment.data for r in replies if r.attachment}
    data = json.loads(files["mock-interviewer-export.json"])
    assert [(q["chat_id"], q["option"]) for q in data["quiz_answers"]] == [("g1", 1)]
    assert len(data["link_codes"]) == 1 and data["link_codes"][0]["code"]
    assert [s["replies"][0]["text"] for s in data["queued_sends"]] == ["for u1"]
    rows = list(csv.reader(io.StringIO(files["fsrs-review-log.csv"].decode())))[1:]
    assert [(int(ms), rating) for _, ms, rating in rows] == [
        (int(rated_at.timestamp() * 1000), "3"),
        (int(skipped_at.timestamp() * 1000), "1"),
    ]


async def test_channel_quizzes_saved_before_0006_become_the_groups(db_engine: AsyncEngine) -> None:
    from alembic import command

    def to_0005(connection: Connection) -> None:
        command.downgrade(_alembic_config(connection), "0005")

    async with db_engine.begin() as conn:
        await conn.run_sync(to_0005)
        admin = await conn.scalar(
            insert(User).values(display_name="Admin", created_at=datetime(2026, 3, 1, tzinfo=UTC)).returning(User.id)
        )
        for kind, chat in (("quiz", "g1"), ("daily", "dm-admin")):  # then, a quiz was its configuring admin's
            await conn.execute(
                insert(SubscriptionRow).values(
                    kind=kind, platform="test", chat_id=chat, user_id=admin, external_user_id="admin", active=True,
                    local_time="18:00", zone="UTC", days="mon", settings={}, updated_at=datetime(2026, 3, 1, tzinfo=UTC),
                )
            )  # fmt: skip
    await upgrade(db_engine)
    async with db_engine.connect() as conn:
        owners = dict((await conn.execute(select(SubscriptionRow.kind, SubscriptionRow.user_id))).all())
    assert owners == {"quiz": None, "daily": admin}  # so the admin's /forget leaves the group's quiz alone
