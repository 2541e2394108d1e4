"""Channel quizzes in study groups: admin settings, the quiz itself, members' answers, results."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import Poll
from bot.daily.question import describe_days, in_topics, parse_days, parse_topics
from bot.delivery.ports import ScheduledRecord
from bot.quiz.records import QuizAnswerRecord, QuizRunRecord
from bot.subscriptions.schedule import next_run, parse_clock, parse_zone
from bot.subscriptions.subscription import Subscription, SubscriptionRecord

if TYPE_CHECKING:
    from bot.engine import Engine

OPEN_PERIODS = range(10, 601)  # Telegram's limit for a poll's open_period is 5-600 s
COUNTS = range(1, 11)
CLOSE_GRACE = timedelta(seconds=5)


class GroupQuizzes:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def command(self, ctx: Ctx, args: Sequence[str]) -> None:
        sub = await ctx.data.subscription("quiz")
        if not args or args[0].lower() in ("leaderboard", "top"):
            if args:
                await self.leaderboard(ctx)
            else:
                self.show(ctx, sub)
            return
        if not self._may_configure(ctx, sub) or (args[0].lower() == "role" and not ctx.event.is_admin):
            ctx.say("Only group admins can change quiz settings. /quiz shows them; /leaderboard shows the scores.")
            return
        sub = sub or Subscription(kind="quiz", platform=ctx.event.platform, chat_id=ctx.event.chat_id, user_id=0,
                                  external_user_id="", active=False, at="18:00")  # fmt: skip
        word, rest = args[0].lower(), list(args[1:])
        if word == "now":
            # Sent through the outbox like a scheduled quiz, so poll ids are recorded the same way.
            ev = ctx.event
            key = f"quiz-now:{ev.platform}:{ev.chat_id}:{ctx.now:%Y%m%d%H%M%S}"
            ctx.records.append(SubscriptionRecord(sub))
            ctx.records.append(ScheduledRecord(key, "quiz", ev.platform, ev.chat_id, "group", "now", ctx.now))
            ctx.say("Starting a quiz now…", private=False)
            return
        changed = self._apply(sub, word, rest)
        if isinstance(changed, str):
            ctx.say(changed)
            return
        at = parse_clock(changed.at)
        assert at is not None
        changed = replace(
            changed, next_run=next_run(ctx.now, at, changed.zone, changed.days) if changed.active else None
        )
        ctx.records.append(SubscriptionRecord(changed))
        self.show(ctx, changed, "Saved.")

    @staticmethod
    def _may_configure(ctx: Ctx, sub: Subscription | None) -> bool:
        """Admins (as the platform reports them), or members holding the role the admins chose."""
        role = sub.manager_role if sub else None
        return ctx.event.is_admin or (role is not None and role in ctx.event.roles)

    def _apply(self, sub: Subscription, word: str, rest: list[str]) -> Subscription | str:
        if word == "role" and rest:
            role = rest[0].strip("<@&>")
            if role.lower() == "off":
                return replace(sub, manager_role=None)
            return (
                replace(sub, manager_role=role)
                if role.isdigit()
                else "Example: /quiz role @QuizMasters, or /quiz role off"
            )
        if word == "off":
            return replace(sub, active=False)
        if word == "on":
            sub = replace(sub, active=True, deactivated_reason=None)
            if rest:
                return self._apply(sub, "time", rest)
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

    def show(self, ctx: Ctx, sub: Subscription | None, note: str = "") -> None:
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
        ctx.say(
            prefix
            + f"🧠 Channel quiz: {state}\n{sub.count} questions at {sub.at} {sub.zone}, {describe_days(sub.days)}; "
            f"{sub.open_period} s to answer each.\nTopics: {topics} · Difficulty: "
            f"{texts.DIFFICULTY_LABELS[sub.difficulty].lower()}{managers}",
            private=False,
        )

    def _pick(self, sub: Subscription, seen: dict[str, int], seed: str) -> list[str]:
        """Questions few members of this group have answered come first."""
        want = None if sub.difficulty == "match" else sub.difficulty
        pool = [
            q
            for q in self.engine.bank.quiz.values()
            if in_topics(q.section, sub.topics) and (not want or q.difficulty == want)
        ]
        if len(pool) < sub.count:
            pool = [q for q in self.engine.bank.quiz.values() if in_topics(q.section, sub.topics)] or list(
                self.engine.bank.quiz.values()
            )
        rng = random.Random(seed)
        ranked = sorted(pool, key=lambda q: (seen.get(q.id, 0), rng.random()))
        return [q.id for q in ranked[: sub.count]]

    async def start(self, ctx: Ctx, sub: Subscription | None = None) -> None:
        sub = sub or await ctx.data.subscription("quiz")
        if sub is None:
            return
        seen = await ctx.data.group_seen()
        run_id = self.engine.new_id()
        ids = self._pick(sub, seen, run_id)
        if not ids:
            ctx.say("The quiz bank has no questions for these topics.", private=False)
            return
        closes = ctx.now + timedelta(seconds=sub.open_period)
        ctx.say(
            f"🧠 Quiz time! {texts.plural(len(ids), 'question')}, {sub.open_period} s each. "
            "Results follow when the polls close.",
            private=False,
        )
        for i, qid in enumerate(ids):
            q = self.engine.bank.quiz[qid]
            poll = Poll(q.question, tuple(q.options), q.answer, q.explanation, sub.open_period, f"{run_id}:{i}")
            ctx.say("", poll=poll, private=False)
        ev = ctx.event
        ctx.records.append(QuizRunRecord(run_id, ev.platform, ev.chat_id, tuple(ids), ctx.now, closes, "open"))
        ctx.records.append(
            ScheduledRecord(
                f"close:{run_id}", "quiz_close", ev.platform, ev.chat_id, "group", run_id, closes + CLOSE_GRACE
            )
        )

    async def answer(self, ctx: Ctx, ref: str, option: int) -> None:
        run_id, _, index = ref.rpartition(":")
        run = await ctx.data.quiz_run(run_id) if index.isdigit() else None
        if run is None or int(index) >= len(run.question_ids):
            ctx.say("I don't recognise that quiz.", private=True)
            return
        if run.status != "open":
            ctx.say("This quiz has closed; your answer wasn't counted.", private=True)
            return
        profile = await ctx.profile()
        i = int(index)
        if any(u == profile.user_id and qi == i for u, _, qi, _ in run.answers):
            ctx.say("You already answered this one; your first answer counts.", private=True)
            return
        qid = run.question_ids[i]
        q = self.engine.bank.quiz.get(qid)
        if q is None or not 0 <= option < len(q.options):
            ctx.say("That option doesn't exist.", private=True)
            return
        right = option == q.answer
        ctx.records.append(QuizAnswerRecord(run_id, i, qid, option, right, ctx.now))
        verdict = "✅ Correct!" if right else f"❌ The answer is {q.options[q.answer]}."
        ctx.say(f"{verdict} {q.explanation}", private=True)

    async def close(self, ctx: Ctx, run_id: str) -> None:
        run = await ctx.data.quiz_run(run_id)
        if run is None or run.status != "open":
            return
        ctx.records.append(
            QuizRunRecord(run_id, ctx.event.platform, ctx.event.chat_id, run.question_ids, ctx.now, ctx.now, "closed")
        )
        lines = ["🏁 Quiz results"]
        per_user: dict[str, int] = defaultdict(int)
        for i, qid in enumerate(run.question_ids):
            q = self.engine.bank.quiz.get(qid)
            answers = [a for a in run.answers if a[2] == i]
            right = sum(1 for a in answers if a[3])
            correct = q.options[q.answer] if q else "?"
            lines.append(f"Q{i + 1}: {right}/{len(answers)} correct · answer: {correct}")
        for _, name, _, ok in run.answers:
            per_user[name] += int(ok)
        if per_user:
            best = sorted(per_user.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
            lines.append("This quiz: " + ", ".join(f"{name} {n}/{len(run.question_ids)}" for name, n in best))
        else:
            lines.append("Nobody answered this time.")
        ctx.say("\n".join(lines), private=False, closes=run_id)
        await self.leaderboard(ctx)

    async def leaderboard(self, ctx: Ctx) -> None:
        board = await ctx.data.leaderboard()
        if not board.all_time:
            ctx.say("No quiz answers in this chat yet.", private=False)
            return

        def rows(entries: list[tuple[str, int, int]]) -> str:
            return (
                "\n".join(f"{i}. {name}: {right}/{total}" for i, (name, right, total) in enumerate(entries, 1))
                or "(no answers)"
            )

        ctx.say(f"🏆 Leaderboard, this week\n{rows(board.week)}\n\nAll time\n{rows(board.all_time)}", private=False)
