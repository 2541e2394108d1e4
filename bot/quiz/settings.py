"""/quiz in a group: the channel quiz's settings, which admins (or a role they chose) may change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.core import texts
from bot.core.context import Ctx
from bot.delivery.ports import ScheduledRecord
from bot.quiz.leaderboard import leaderboard
from bot.subscriptions.schedule import next_run, parse_clock, parse_zone
from bot.subscriptions.settings import describe_days, parse_days, parse_topics
from bot.subscriptions.subscription import Subscription, SubscriptionRecord

OPEN_PERIODS = range(10, 601)  # Telegram's limit for a poll's open_period is 5-600 s
COUNTS = range(1, 11)


async def command(ctx: Ctx, args: Sequence[str]) -> None:
    sub = await ctx.data.subscription("quiz")
    if not args or args[0].lower() in ("leaderboard", "top"):
        if args:
            await leaderboard(ctx)
        else:
            show(ctx, sub)
        return
    if not _may_configure(ctx, sub) or (args[0].lower() == "role" and not ctx.event.is_admin):
        ctx.say("Only group admins can change quiz settings. /quiz shows them; /leaderboard shows the scores.")
        return
    sub = sub or Subscription(kind="quiz", platform=ctx.event.platform, chat_id=ctx.event.chat_id, user_id=0,
                              external_user_id="", active=False, at="18:00",
                              thread_id=ctx.event.thread_id)  # fmt: skip
    word, rest = args[0].lower(), list(args[1:])
    if word == "now":
        # Sent through the outbox like a scheduled quiz, so poll ids are recorded the same way.
        ev = ctx.event
        key = f"quiz-now:{ev.platform}:{ev.chat_id}:{ctx.now:%Y%m%d%H%M%S}"
        ctx.records.append(SubscriptionRecord(sub))
        ctx.records.append(ScheduledRecord(key, "quiz", ev.platform, ev.chat_id, "group", "now", ctx.now, ev.thread_id))
        ctx.say("Starting a quiz now…", private=False, starts_quiz=True)
        return
    changed = _apply(sub, word, rest)
    if isinstance(changed, str):
        ctx.say(changed)
        return
    at = parse_clock(changed.at)
    assert at is not None
    changed = replace(
        changed,
        next_run=next_run(ctx.now, at, changed.zone, changed.days) if changed.active else None,
        thread_id=ctx.event.thread_id,  # a quiz runs in the forum topic it was last set up in
    )
    ctx.records.append(SubscriptionRecord(changed))
    show(ctx, changed, "Saved.")


def _may_configure(ctx: Ctx, sub: Subscription | None) -> bool:
    """Admins (as the platform reports them), or members holding the role the admins chose."""
    role = sub.manager_role if sub else None
    return ctx.event.is_admin or (role is not None and role in ctx.event.roles)


def _apply(sub: Subscription, word: str, rest: list[str]) -> Subscription | str:
    if word == "role" and rest:
        role = rest[0].strip("<@&>")
        if role.lower() == "off":
            return replace(sub, manager_role=None)
        return (
            replace(sub, manager_role=role) if role.isdigit() else "Example: /quiz role @QuizMasters, or /quiz role off"
        )
    if word == "off":
        return replace(sub, active=False)
    if word == "on":
        sub = replace(sub, active=True, deactivated_reason=None)
        if rest:
            return _apply(sub, "time", rest)
        return sub
    if word == "time" and rest:
        at = parse_clock(rest[0])
        tz = parse_zone(" ".join(rest[1:])) if len(rest) > 1 else sub.zone
        if at is None or tz is None:
            return "Example: /quiz time 18:00 Europe/Berlin"
        return replace(sub, at=at.strftime("%H:%M"), zone=tz)
    if word == "zone" and rest:
        tz = parse_zone(" ".join(rest))
        return replace(sub, zone=tz) if tz else "I don't know that time zone; try e.g. Europe/Berlin or +05:45."
    if word == "days" and rest:
        days = parse_days(",".join(rest))
        return replace(sub, days=days) if days else "Days are e.g. weekdays, weekends, everyday, or mon,thu."
    if word == "count" and rest and rest[0].isdigit() and int(rest[0]) in COUNTS:
        return replace(sub, count=int(rest[0]))
    if word == "open" and rest and rest[0].isdigit() and int(rest[0]) in OPEN_PERIODS:
        return replace(sub, open_period=int(rest[0]))
    if word == "difficulty" and rest and rest[0].lower() in ("easy", "medium", "hard", "match"):
        return replace(sub, difficulty=rest[0].lower())
    if word == "topics" and rest:
        topics = parse_topics(rest)
        return (
            replace(sub, topics=topics)
            if topics is not None
            else "Topics are chapters 5-9 or sections like 7.3, or 'all'."
        )
    return (
        "Quiz settings (admins): /quiz on 18:00 Europe/Berlin, /quiz off, /quiz time 18:00, /quiz days mon,thu, "
        "/quiz count 5 (1-10), /quiz open 120 (seconds, 10-600), /quiz difficulty medium, /quiz topics 7 8, /quiz now, "
        "/quiz role @role (Discord: members with that role may change these settings too)"
    )


def show(ctx: Ctx, sub: Subscription | None, note: str = "") -> None:
    prefix = f"{note}\n" if note else ""
    if sub is None:
        ctx.say(
            prefix
            + "No scheduled quiz in this chat yet. An admin can start one with /quiz on 18:00 Europe/Berlin, or /quiz now.",
            private=False,
        )
        return
    state = "on" if sub.active else "off"
    topics = ", ".join(sub.topics) or "all"
    managers = f"\nAlso managed by members with role {sub.manager_role}" if sub.manager_role else ""
    if sub.thread_id or ctx.event.thread_id:  # a forum: say which topic the quiz posts in
        where = "this topic" if sub.thread_id == ctx.event.thread_id else f"topic {sub.thread_id or 'General'}"
        if not sub.thread_id and ctx.event.thread_id:
            where = "the General topic"
        managers += f"\nPosts in {where}; an admin's /quiz settings command in another topic moves it there."
    ctx.say(
        prefix + f"🧠 Channel quiz: {state}\n{sub.count} questions at {sub.at} {sub.zone}, {describe_days(sub.days)}; "
        f"{sub.open_period} s to answer each.\nTopics: {topics} · Difficulty: "
        f"{texts.DIFFICULTY_LABELS[sub.difficulty].lower()}{managers}",
        private=False,
    )
