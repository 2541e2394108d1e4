"""Local delivery times across daylight-saving changes and unusual offsets, and FSRS choices."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.answering import srs
from bot.subscriptions.schedule import DAYS, next_run, parse_clock, parse_zone, zone


def runs(start: datetime, at: time, zone_name: str, n: int, days: tuple[str, ...] = DAYS) -> list[datetime]:
    out, now = [], start
    for _ in range(n):
        now = next_run(now, at, zone_name, days)
        out.append(now)
    return out


def test_new_york_spring_forward_keeps_nine_am_local() -> None:
    got = runs(datetime(2026, 3, 6, 15, tzinfo=UTC), time(9, 0), "America/New_York", 4)
    assert [d.isoformat() for d in got] == [
        "2026-03-07T14:00:00+00:00",  # Saturday, EST (UTC-5)
        "2026-03-08T13:00:00+00:00",  # Sunday, clocks went forward: EDT (UTC-4)
        "2026-03-09T13:00:00+00:00",
        "2026-03-10T13:00:00+00:00",
    ]
    assert all(d.astimezone(zone("America/New_York")).hour == 9 for d in got)


def test_new_york_fall_back_keeps_nine_am_local() -> None:
    got = runs(datetime(2026, 10, 31, 12, tzinfo=UTC), time(9, 0), "America/New_York", 3)
    assert [d.isoformat() for d in got] == [
        "2026-10-31T13:00:00+00:00",
        "2026-11-01T14:00:00+00:00",  # back to EST
        "2026-11-02T14:00:00+00:00",
    ]


def test_skipped_and_repeated_local_times() -> None:
    # 02:30 does not exist on 8 March 2026 in New York: it is delivered an hour later, once.
    skipped = next_run(datetime(2026, 3, 8, 0, tzinfo=UTC), time(2, 30), "America/New_York", DAYS)
    assert skipped.astimezone(zone("America/New_York")).strftime("%H:%M") == "03:30"
    # 01:30 happens twice on 1 November 2026: only the first counts.
    repeated = runs(datetime(2026, 11, 1, 0, tzinfo=UTC), time(1, 30), "America/New_York", 2)
    assert repeated[0].isoformat() == "2026-11-01T05:30:00+00:00"
    assert repeated[1].isoformat() == "2026-11-02T06:30:00+00:00"


@pytest.mark.parametrize("name", ["Asia/Kathmandu", "+05:45", "UTC+5:45", "kathmandu"])
def test_kathmandu_offset(name: str) -> None:
    resolved = parse_zone(name)
    assert resolved is not None
    got = next_run(datetime(2026, 5, 1, 0, tzinfo=UTC), time(7, 0), resolved, DAYS)
    assert got.isoformat() == "2026-05-01T01:15:00+00:00"


def test_days_of_week_are_respected_in_local_time() -> None:
    # 23:30 on Monday in Los Angeles is already Tuesday in UTC.
    got = runs(datetime(2026, 6, 1, tzinfo=UTC), time(23, 30), "America/Los_Angeles", 3, ("mon", "wed"))
    local = [d.astimezone(zone("America/Los_Angeles")) for d in got]
    assert [d.strftime("%a %H:%M") for d in local] == ["Mon 23:30", "Wed 23:30", "Mon 23:30"]


def test_zone_and_clock_parsing() -> None:
    assert parse_zone("Europe/Berlin") == "Europe/Berlin"
    assert parse_zone("berlin") == "Europe/Berlin"
    assert parse_zone("europe/berlin") == "Europe/Berlin"
    assert parse_zone("UTC") == "UTC" and parse_zone("+00:00") == "UTC"
    assert parse_zone("-03:30") == "UTC-03:30"
    for bad in ("Mars/Olympus", "+15:00", "", "x" * 100, "🙂"):
        assert parse_zone(bad) is None
    assert (
        parse_clock("7pm") == time(19, 0) and parse_clock("07:05") == time(7, 5) and parse_clock("12am") == time(0, 0)
    )
    for bad in ("25:00", "7:60", "13pm", "soon"):
        assert parse_clock(bad) is None


def test_fsrs_due_reviews_come_before_new_questions() -> None:
    now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    hard = srs.review(None, "q-hard", "again", now - timedelta(days=3))
    easy = srs.review(None, "q-easy", "easy", now - timedelta(days=3))
    assert hard.due < easy.due and hard.due <= now < easy.due
    cards = {"q-hard": hard, "q-easy": easy}
    candidates = ["q-hard", "q-easy", "q-new-1", "q-new-2"]
    sections = {"q-hard": "7.1", "q-easy": "7.1", "q-new-1": "5.2.1", "q-new-2": "8.3"}
    pick = srs.choose(cards, candidates, sections, {}, now, "seed")
    assert pick is not None and pick.question_id == "q-hard"
    # Once reviewed again it is no longer due, so a new question from the weakest section comes next.
    cards["q-hard"] = srs.review(hard, "q-hard", "good", now)
    pick = srs.choose(cards, candidates, sections, {"5.2.1": 1.0, "8.3": 3.5}, now, "seed")
    assert pick is not None and pick.question_id == "q-new-1"
    # The easy card is never shown before it is due, even when nothing else is left.
    assert srs.choose({"q-easy": easy}, ["q-easy"], sections, {}, now, "seed") is None


def test_backlog_after_a_break_is_capped() -> None:
    now = datetime(2026, 3, 10, tzinfo=UTC)
    cards = {f"q{i}": srs.review(None, f"q{i}", "again", now - timedelta(days=60 - i)) for i in range(50)}
    pick = srs.choose(cards, list(cards), {q: "7.1" for q in cards}, {}, now, "s")
    assert pick is not None and pick.question_id == "q0"  # the most overdue first
    assert len(pick.postponed) == 50 - srs.MAX_DUE_BACKLOG
    moved = srs.postpone(cards[pick.postponed[0]], now, 2)
    assert moved.due == now + timedelta(days=2)
