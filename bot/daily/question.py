"""The daily question by DM: settings from chat, the question chosen by spaced repetition,
its answer, grade, self-rating and the next review date."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.answering import srs
from bot.answering.records import AnswerRecord, CardRecord, DisputeRecord, RatingRecord
from bot.answering.results import AnswerResult, PointResult
from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import Button, make_choice
from bot.daily.state import DailyState
from bot.grading.rubrics import rubric_for
from bot.grading.verdict import Verdict
from bot.rounds.records import RoundRecord
from bot.rounds.selection import level_from_score
from bot.subscriptions.schedule import DAYS, local_date, next_run, parse_clock, parse_zone, zone
from bot.subscriptions.subscription import Subscription, SubscriptionRecord
from questions.schema import TechnicalQuestion
from questions.sections import SECTIONS

if TYPE_CHECKING:
    from bot.engine import Engine

TOPIC_GROUPS = {
    "5": "Math",
    "6": "Computer science",
    "7": "ML workflows",
    "8": "ML algorithms",
    "9": "LLMs and production",
}
DAY_PRESETS = {"every": DAYS, "week": DAYS[:5], "end": DAYS[5:]}
DIFFICULTY_CHOICES = ("easy", "medium", "hard", "match")
ROLE_LABELS = {"mle": "ML engineer", "ds": "Data scientist", "research": "Research"}


def describe_days(days: Sequence[str]) -> str:
    for name, preset in (("every day", DAYS), ("weekdays", DAYS[:5]), ("weekends", DAYS[5:])):
        if tuple(days) == preset:
            return name
    return ", ".join(d.capitalize() for d in days)


def parse_days(text: str) -> tuple[str, ...] | None:
    raw = text.lower().replace(" ", "")
    presets = {"everyday": DAYS, "daily": DAYS, "all": DAYS, "weekdays": DAYS[:5], "weekends": DAYS[5:]}
    if raw in presets:
        return presets[raw]
    chosen = {d[:3] for d in raw.split(",") if d}
    if not chosen or not chosen <= set(DAYS):
        return None
    return tuple(d for d in DAYS if d in chosen)


def parse_topics(args: Sequence[str]) -> tuple[str, ...] | None:
    if [a.lower() for a in args] == ["all"]:
        return ()
    topics = []
    for a in args:
        if a in TOPIC_GROUPS or a in SECTIONS:
            topics.append(a)
        else:
            return None
    return tuple(topics)


def in_topics(section: str, topics: Sequence[str]) -> bool:
    return not topics or any(section == t or section.startswith(t + ".") for t in topics)


class DailyQuestions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ settings

    async def command(self, ctx: Ctx, args: Sequence[str]) -> None:
        if ctx.event.chat_kind != "private":
            ctx.say("The daily question comes by direct message: send /daily to me in a private chat.")
            return
        sub = await ctx.data.subscription("daily")
        if not args:
            self.show(ctx, sub)
            return
        word, rest = args[0].lower(), list(args[1:])
        if sub is None and word not in ("time", "zone"):
            if parse_clock(args[0]) is not None:  # "/daily 08:30 Europe/Berlin": subscribe in one go
                sub = self._new(ctx)
                word, rest = "time", list(args)
            else:
                ctx.say("You're not subscribed yet. Send /daily to set it up, or e.g. /daily 08:30 Europe/Berlin.")
                return
        sub = sub or self._new(ctx)
        if word == "time" and rest:
            at = parse_clock(rest[0])
            tz = parse_zone(" ".join(rest[1:])) if len(rest) > 1 else sub.zone
            if at is None or tz is None:
                ctx.say("I couldn't read that. Example: /daily time 08:30 or /daily time 7pm Europe/Berlin.")
                return
            self.save(
                ctx, replace(sub, at=at.strftime("%H:%M"), zone=tz, active=True, deactivated_reason=None), "Time set."
            )
        elif word == "zone" and rest:
            tz = parse_zone(" ".join(rest))
            if tz is None:
                ctx.say(
                    "I don't know that time zone. Try a city (Berlin), a zone name (Asia/Kathmandu) or an offset (+05:45)."
                )
                return
            self.save(ctx, replace(sub, zone=tz), "Time zone set.")
        elif word == "days" and rest:
            days = parse_days(",".join(rest))
            if days is None:
                ctx.say("Days are e.g. weekdays, weekends, everyday, or mon,wed,fri.")
                return
            self.save(ctx, replace(sub, days=days), "Days set.")
        elif word == "topics" and rest:
            topics = parse_topics(rest)
            if topics is None:
                ctx.say("Topics are chapter numbers 5-9 or book sections such as 7.3, or 'all'.")
                return
            self.save(ctx, replace(sub, topics=topics), "Topics set.")
        elif word == "difficulty" and rest and rest[0].lower() in DIFFICULTY_CHOICES:
            self.save(ctx, replace(sub, difficulty=rest[0].lower()), "Difficulty set.")
        elif word == "role" and rest and rest[0].lower() in (*ROLE_LABELS, "all"):
            role = None if rest[0].lower() == "all" else rest[0].lower()
            self.save(ctx, replace(sub, role=role), "Role set.")
        elif word in ("pause", "resume", "stop", "now"):
            await self.choice(ctx, word, "")
        else:
            ctx.say("Try /daily, /daily time 08:30, /daily zone Europe/Berlin, /daily days weekdays, /daily topics 5 7, "
                    "/daily difficulty medium, /daily role ds (mle, ds, research or all), /daily pause, /daily resume "
                    "or /daily stop.")  # fmt: skip

    def _new(self, ctx: Ctx) -> Subscription:
        return Subscription(
            kind="daily",
            platform=ctx.event.platform,
            chat_id=ctx.event.chat_id,
            user_id=0,  # filled in by storage from the conversation's user
            external_user_id=ctx.event.user_id,
        )

    def save(self, ctx: Ctx, sub: Subscription, note: str) -> None:
        sub = replace(
            sub,
            next_run=next_run(ctx.now, parse_clock(sub.at) or datetime.min.time(), sub.zone, sub.days)
            if sub.active
            else None,
        )
        ctx.records.append(SubscriptionRecord(sub))
        self.show(ctx, sub, note)

    def show(self, ctx: Ctx, sub: Subscription | None, note: str = "") -> None:
        seq = ctx.state.next_seq()
        prefix = f"{note}\n" if note else ""
        if sub is None or sub.deactivated_reason == "unsubscribed":
            ctx.say(
                prefix + "📅 Get one interview question a day by direct message, at your local time. Questions you "
                "found hard come back sooner (spaced repetition); new ones come from your weakest topics.",
                [Button("Subscribe", make_choice("dl", "sub", seq))],
            )
            return
        status = (
            "on" if sub.active else f"paused{' (' + sub.deactivated_reason + ')' if sub.deactivated_reason else ''}"
        )
        when = ""
        if sub.active and sub.next_run:
            nxt = sub.next_run.astimezone(zone(sub.zone))
            when = f" (next: {nxt:%a %d %b %H:%M})"
        topics = ", ".join(TOPIC_GROUPS.get(t, t) for t in sub.topics) or "all"
        lines = [
            f"📅 Daily question: {status}",
            f"Time: {sub.at} {sub.zone}, {describe_days(sub.days)}{when}",
            f"Topics: {topics} · Difficulty: {texts.DIFFICULTY_LABELS[sub.difficulty].lower()} · "
            f"Role: {ROLE_LABELS.get(sub.role or '', 'any')}",
            f"Streak: {texts.plural(sub.streak, 'day')} (best {sub.best_streak})",
        ]
        buttons = [
            Button("Pause" if sub.active else "Resume", make_choice("dl", "pause" if sub.active else "resume", seq)),
            Button("Send one now", make_choice("dl", "now", seq)),
            Button("Change time", make_choice("dl", "time", seq)),
            Button("Change time zone", make_choice("dl", "zone", seq)),
            Button("Every day", make_choice("dl", "days", "every", seq)),
            Button("Weekdays", make_choice("dl", "days", "week", seq)),
        ]
        for key, label in TOPIC_GROUPS.items():
            mark = "✓ " if key in sub.topics else ""
            buttons.append(Button(f"{mark}{label}", make_choice("dl", "top", key, seq)))
        buttons.append(Button("All topics", make_choice("dl", "top", "all", seq)))
        buttons += [Button(texts.DIFFICULTY_LABELS[d], make_choice("dl", "diff", d, seq)) for d in DIFFICULTY_CHOICES]
        buttons += [Button(label, make_choice("dl", "role", key, seq)) for key, label in ROLE_LABELS.items()]
        buttons.append(Button("Any role", make_choice("dl", "role", "all", seq)))
        buttons.append(Button("Unsubscribe", make_choice("dl", "stop", seq)))
        ctx.say(prefix + "\n".join(lines), buttons)

    async def choice(self, ctx: Ctx, action: str, value: str) -> None:
        if action in ("done", "hint", "skip", "rt", "wrong"):
            await self.answer_action(ctx, action, value)
            return
        sub = await ctx.data.subscription("daily")
        if action == "sub":
            sub = sub or self._new(ctx)
            ctx.records.append(SubscriptionRecord(replace(sub, active=False, deactivated_reason="setting up")))
            ctx.state.awaiting = "daily_zone"
            ctx.say(
                "Which time zone are you in? Send a city (Berlin), a zone name (Europe/Berlin) or an offset (+05:45)."
            )
            return
        if sub is None:
            self.show(ctx, None, "You're not subscribed yet.")
            return
        if action == "pause":
            self.save(ctx, replace(sub, active=False, deactivated_reason=None), "Paused. /daily resume brings it back.")
        elif action == "resume":
            self.save(ctx, replace(sub, active=True, deactivated_reason=None), "Resumed.")
        elif action == "stop":
            ctx.records.append(
                SubscriptionRecord(replace(sub, active=False, next_run=None, deactivated_reason="unsubscribed"))
            )
            ctx.say("Unsubscribed. Your history and review schedule are kept; /daily subscribes again.")
        elif action == "time":
            ctx.state.awaiting = "daily_time"
            ctx.say(f"What time should it arrive ({sub.zone})? For example 08:30 or 7pm.")
        elif action == "zone":
            ctx.state.awaiting = "daily_zone"
            ctx.say("Which time zone? A city (Berlin), a zone name (Europe/Berlin) or an offset (+05:45).")
        elif action == "days" and value in DAY_PRESETS:
            self.save(ctx, replace(sub, days=DAY_PRESETS[value]), "Days set.")
        elif action == "top" and (value in TOPIC_GROUPS or value == "all"):
            topics = () if value == "all" else tuple(sorted(set(sub.topics) ^ {value}))
            self.save(ctx, replace(sub, topics=topics), "Topics set.")
        elif action == "diff" and value in DIFFICULTY_CHOICES:
            self.save(ctx, replace(sub, difficulty=value), "Difficulty set.")
        elif action == "role" and (value in ROLE_LABELS or value == "all"):
            self.save(ctx, replace(sub, role=None if value == "all" else value), "Role set.")
        elif action == "now":
            await self.send_question(ctx, sub)
        else:
            ctx.say("Sorry, I don't recognise that button.")

    async def awaited_text(self, ctx: Ctx, text: str) -> None:
        """A time or time zone typed after the bot asked for it."""
        sub = await ctx.data.subscription("daily") or self._new(ctx)
        if ctx.state.awaiting == "daily_zone":
            tz = parse_zone(text)
            if tz is None:
                ctx.say(
                    "I don't know that time zone. Try a city (Berlin), a zone name (Asia/Kathmandu) or an offset (+05:45), or /daily to go back."
                )
                return
            ctx.state.awaiting = "daily_time"
            ctx.records.append(SubscriptionRecord(replace(sub, zone=tz)))
            ctx.say(f"Time zone: {tz}. What time should the question arrive? For example 08:30 or 7pm.")
            return
        at = parse_clock(text)
        if at is None:
            ctx.say("I couldn't read that time. Send it like 08:30, 18:05 or 7pm, or /daily to go back.")
            return
        ctx.state.awaiting = None
        self.save(
            ctx, replace(sub, at=at.strftime("%H:%M"), active=True, deactivated_reason=None), "You're subscribed!"
        )

    # ------------------------------------------------------------------ the question

    def candidates(self, sub: Subscription, profile_level: str) -> list[str]:
        want = None if sub.difficulty == "match" else sub.difficulty
        out = []
        for q in self.engine.bank.technical.values():
            if not in_topics(q.section, sub.topics):
                continue
            if want and q.difficulty != want:
                continue
            if sub.role and sub.role not in q.roles:
                continue
            out.append(q.id)
        if sub.difficulty == "match" and profile_level != "hard":
            # new users start away from the hardest questions; reviews are unaffected
            easier = [q for q in out if self.engine.bank.technical[q].difficulty != "hard"]
            out = easier or out
        return out

    async def send_question(self, ctx: Ctx, sub: Subscription | None = None) -> None:
        scheduled = sub is None
        sub = sub or await ctx.data.subscription("daily")
        if sub is None or (scheduled and not sub.active):
            return  # paused or stopped after this send was planned: send nothing
        st = ctx.state
        cards = dict(await ctx.data.cards())
        if st.daily is not None and st.daily.phase == "rate" and st.daily.score is not None:
            rated = await self._rate(ctx, srs.rating_from_score(st.daily.score), automatic=True)
            cards[rated.question_id] = rated  # records are written after the turn; choose with the new due date
        profile = await ctx.profile()
        level = level_from_score(profile.recent_scores.get("daily"))
        candidates = self.candidates(sub, level)
        bank = self.engine.bank.technical
        pick = srs.choose(
            cards,
            candidates,
            {q: bank[q].section for q in candidates},
            profile.section_scores,
            ctx.now,
            f"{profile.user_id}:{ctx.now.date()}",
        )
        recap = self._recap(ctx, sub, profile.week_answers, profile.week_mean, cards)
        if pick is None:
            ctx.say(
                recap + "Nothing is due today and you've seen every question in your topics. Widen them with /daily."
            )
            return
        for i, qid in enumerate(pick.postponed):
            ctx.records.append(CardRecord(profile.user_id, srs.postpone(cards[qid], ctx.now, 1 + i // 3)))
        question = bank[pick.question_id]
        round_id = self.engine.new_id()
        st.daily = DailyState(question_id=question.id, round_id=round_id, sent_at=ctx.now)
        ctx.records.append(RoundRecord(round_id, "daily", question.difficulty, 1, "active", ctx.now))
        review = " (review)" if question.id in cards else ""
        waiting = (
            "\n\n(You're in a round: finish or /pause it first; this question will wait.)" if st.mode == "round" else ""
        )
        seq = st.next_seq()
        done = make_choice("dl", "done", seq)
        ctx.say(
            f"{recap}🗓 Daily question{review} · {question.section} {SECTIONS[question.section]} · {question.difficulty}\n\n"
            f"{question.prompt}\n\nAnswer here in one or more messages, then press Done.{waiting}",
            [
                Button("Done", done),
                Button("Hint", make_choice("dl", "hint", seq)),
                Button("Skip", make_choice("dl", "skip", seq)),
            ],
            answer_choice=done,
        )

    def _recap(self, ctx: Ctx, sub: Subscription, answers: int, mean: float, cards: dict[str, srs.CardState]) -> str:
        today = local_date(ctx.now, sub.zone)
        if DAYS[today.weekday()] != sub.days[-1]:
            return ""
        upcoming = sum(1 for c in cards.values() if c.due <= ctx.now + timedelta(days=7))
        avg = f", average {mean:.1f}/4" if answers else ""
        return (
            f"📈 Your week: {texts.plural(answers, 'answer')}{avg}; streak {texts.plural(sub.streak, 'day')}; "
            f"{texts.plural(upcoming, 'review')} due in the coming week.\n\n"
        )

    def _question(self, qid: str) -> TechnicalQuestion | None:
        return self.engine.bank.technical.get(qid)

    async def answer_text(self, ctx: Ctx, text: str, *, quiet: bool = False) -> bool:
        """Keep one part of the answer; True when kept. `quiet`: it is the whole answer (a form)."""
        daily = ctx.state.daily
        assert daily is not None
        if daily.phase == "rate":
            self._ask_rating(ctx, "How well did you know today's question?")
            return False
        if sum(len(p) for p in daily.answer) + len(text) > texts.MAX_ANSWER_CHARS:
            ctx.say("That's the most I keep for one answer. Press Done to have it graded.")
            return False
        daily.answer.append(text.strip())
        if quiet:
            return True
        seq = ctx.state.next_seq()
        words = sum(len(p.split()) for p in daily.answer)
        done = make_choice("dl", "done", seq)
        ctx.say(
            f"Noted ({texts.plural(words, 'word')}). Add more, or press Done.",
            [Button("Done", done), Button("Hint", make_choice("dl", "hint", seq))],
            answer_choice=done,
        )
        return True

    async def answer_action(self, ctx: Ctx, action: str, value: str) -> None:
        daily = ctx.state.daily
        question = self._question(daily.question_id) if daily else None
        if daily is None or question is None:
            ctx.say("There's no daily question open. /daily shows your subscription.")
            return
        if action == "hint":
            if daily.phase != "answer" or daily.hints_used >= len(question.hints):
                ctx.say("No more hints for this one.")
                return
            daily.hints_used += 1
            ctx.say(f"💡 Hint {daily.hints_used}/{len(question.hints)}: {question.hints[daily.hints_used - 1]}")
        elif action == "skip":
            points = "\n".join(f"  • {p.point}" for p in question.key_points)
            ctx.say(f"Skipped. A strong answer covers:\n{points}\n\nReference answer:\n{question.reference_answer}")
            await self._rate(ctx, "again", automatic=True)
        elif action == "done":
            if daily.phase == "rate":
                self._ask_rating(ctx)
                return
            answer = "\n".join(daily.answer).strip()
            if not answer:
                ctx.say("You haven't written an answer yet. Type it here, or press Skip.")
                return
            verdict = await self.engine.grader.grade(rubric_for(question), answer)
            await self._graded(ctx, question, answer, verdict)
        elif action == "rt" and value in srs.RATINGS and daily.phase == "rate":
            await self._rate(ctx, value)
        elif action == "wrong" and daily.phase == "rate":
            ctx.records.append(DisputeRecord(daily.round_id, daily.question_id, ctx.now))
            self._ask_rating(ctx, "Thanks, I've recorded that you think this grade is wrong.")
        else:
            ctx.say("Sorry, I don't recognise that button.")

    async def _graded(self, ctx: Ctx, question: TechnicalQuestion, answer: str, verdict: Verdict) -> None:
        daily = ctx.state.daily
        assert daily is not None
        score = round(max(0.0, verdict.score - texts.HINT_PENALTY * daily.hints_used), 2)
        result = AnswerResult(
            question_id=question.id,
            kind="technical",
            section=question.section,
            topic=question.topic,
            score=score,
            raw_score=verdict.score,
            hints_used=daily.hints_used,
            points=[
                PointResult(point=p.point, status=p.status, evidence=p.evidence, weight=p.weight)
                for p in verdict.points
            ],
            seconds=int((ctx.now - daily.sent_at).total_seconds()),
            words=len(answer.split()),
        )
        ctx.records.append(AnswerRecord(daily.round_id, result, answer, verdict.to_json(), ctx.now))
        daily.phase, daily.score, daily.answer = "rate", score, []
        sub = await ctx.data.subscription("daily")
        streak = ""
        if sub is not None:
            sub = self._bump_streak(sub, local_date(ctx.now, sub.zone))
            ctx.records.append(SubscriptionRecord(sub))
            streak = f"\n🔥 Streak: {texts.plural(sub.streak, 'day')}"
        self._ask_rating(
            ctx, f"Score: {score:.1f}/4\n{verdict.feedback}\n\nReference answer:\n{question.reference_answer}{streak}"
        )

    @staticmethod
    def _bump_streak(sub: Subscription, today: date) -> Subscription:
        last = date.fromisoformat(sub.last_answered) if sub.last_answered else None
        if last == today:
            return sub
        streak = sub.streak + 1 if last == today - timedelta(days=1) else 1
        return replace(sub, streak=streak, best_streak=max(sub.best_streak, streak), last_answered=today.isoformat())

    def _ask_rating(self, ctx: Ctx, note: str = "") -> None:
        seq = ctx.state.next_seq()
        ctx.say(
            (f"{note}\n\n" if note else "") + "How well did you know it? Your rating decides when it comes back.",
            [Button(texts.RATING_LABELS[r], make_choice("dl", "rt", r, seq)) for r in srs.RATINGS]
            + [Button("This grade is wrong", make_choice("dl", "wrong", seq))],
        )

    async def _rate(self, ctx: Ctx, rating: str, *, automatic: bool = False) -> srs.CardState:
        daily = ctx.state.daily
        assert daily is not None
        cards = await ctx.data.cards()
        profile = await ctx.profile()
        card = srs.review(cards.get(daily.question_id), daily.question_id, rating, ctx.now)
        ctx.records.append(CardRecord(profile.user_id, card))
        ctx.records.append(RatingRecord(daily.round_id, daily.question_id, rating, ctx.now))
        ctx.records.append(RoundRecord(daily.round_id, "daily", "", 1, "finished", ctx.now))
        ctx.state.daily = None
        if automatic:
            return card
        sub = await ctx.data.subscription("daily")
        zone_name = sub.zone if sub else "UTC"
        due = local_date(card.due, zone_name)
        days = (due - local_date(ctx.now, zone_name)).days
        ctx.say(
            f"Rated “{texts.RATING_LABELS[rating]}”. This question comes back on {due:%a %d %b} (in {texts.plural(days, 'day')})."
        )
        return card
