"""The daily question by DM: chosen by spaced repetition, answered, graded, self-rated, and
scheduled to come back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

from bot.answering import srs
from bot.answering.flow import RATING_LABELS, AnswerFlow, Choices
from bot.answering.records import CardRecord
from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import Button, make_choice
from bot.daily.state import DailyState
from bot.rounds.records import RoundRecord
from bot.rounds.selection import level_from_score
from bot.subscriptions.schedule import DAYS, local_date
from bot.subscriptions.settings import in_topics
from bot.subscriptions.subscription import Subscription, SubscriptionRecord
from questions.loader import Bank
from questions.schema import TechnicalQuestion
from questions.sections import SECTIONS

# The daily question's buttons predate the shared flow; their ids stay as they were.
DAILY = Choices(answer="dl", rating="dl:rt", dispute="dl:wrong")


class DailyQuestion:
    def __init__(self, bank: Bank, answering: AnswerFlow, new_id: Callable[[], str]) -> None:
        self.bank = bank
        self.answering = answering
        self.new_id = new_id

    def candidates(self, sub: Subscription, profile_level: str) -> list[str]:
        want = None if sub.difficulty == "match" else sub.difficulty
        out = []
        for q in self.bank.technical.values():
            if not in_topics(q.section, sub.topics):
                continue
            if want and q.difficulty != want:
                continue
            if sub.role and sub.role not in q.roles:
                continue
            out.append(q.id)
        if sub.difficulty == "match" and profile_level != "hard":
            # new users start away from the hardest questions; reviews are unaffected
            easier = [q for q in out if self.bank.technical[q].difficulty != "hard"]
            out = easier or out
        return out

    async def send(self, ctx: Ctx, sub: Subscription | None = None) -> None:
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
        bank = self.bank.technical
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
        round_id = self.new_id()
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
        return self.bank.technical.get(qid)

    async def answer_text(self, ctx: Ctx, text: str, *, quiet: bool = False) -> bool:
        """Keep one part of the answer; True when kept. `quiet`: it is the whole answer (a form)."""
        daily = ctx.state.daily
        assert daily is not None
        if daily.phase == "rate":
            if self.answering.dispute_reason(ctx, daily, daily.round_id, daily.question_id, text):
                self.answering.ask_rating(ctx, DAILY, "Thanks, I've added your reason to the dispute.")
            else:
                self.answering.ask_rating(ctx, DAILY, "How well did you know today's question?")
            return False
        return self.answering.collect(ctx, daily, text, DAILY, quiet=quiet)

    async def answer_action(self, ctx: Ctx, action: str, value: str) -> None:
        daily = ctx.state.daily
        question = self._question(daily.question_id) if daily else None
        if daily is None or question is None:
            ctx.say("There's no daily question open. /daily shows your subscription.")
            return
        if action == "hint":
            if daily.phase == "rate":
                self.answering.ask_rating(ctx, DAILY, "Hints are for open questions; this one is done.")
            else:
                self.answering.hint(ctx, daily, question.hints)
        elif action == "skip":
            points = "\n".join(f"  • {p.point}" for p in question.key_points)
            ctx.say(f"Skipped. A strong answer covers:\n{points}\n\nReference answer:\n{question.reference_answer}")
            if daily.phase != "rate":  # recorded like a skipped round question, so the review log has it
                self.answering.skip(ctx, question, daily, round_id=daily.round_id, started=daily.sent_at)
            await self._rate(ctx, "again", automatic=True)
        elif action == "done":
            if daily.phase == "rate":
                self.answering.ask_rating(ctx, DAILY)
                return
            answer = "\n".join(daily.answer).strip()
            if not answer:
                ctx.say("You haven't written an answer yet. Type it here, or press Skip.")
                return
            graded = await self.answering.grade(ctx, question, daily, round_id=daily.round_id, started=daily.sent_at)
            await self._graded(ctx, question, graded.result.score, graded.feedback)
        elif action == "rt" and value in srs.RATINGS and daily.phase == "rate":
            await self._rate(ctx, value)
        elif action == "wrong" and daily.phase == "rate":
            self.answering.dispute(ctx, daily, daily.round_id, daily.question_id, value, DAILY)
        else:
            ctx.say("Sorry, I don't recognise that button.")

    async def _graded(self, ctx: Ctx, question: TechnicalQuestion, score: float, feedback: str) -> None:
        daily = ctx.state.daily
        assert daily is not None
        daily.phase, daily.score = "rate", score
        sub = await ctx.data.subscription("daily")
        streak = ""
        if sub is not None:
            sub = self._bump_streak(sub, local_date(ctx.now, sub.zone))
            ctx.records.append(SubscriptionRecord(sub))
            streak = f"\n🔥 Streak: {texts.plural(sub.streak, 'day')}"
        self.answering.reveal(ctx, question, feedback + streak, DAILY)

    @staticmethod
    def _bump_streak(sub: Subscription, today: date) -> Subscription:
        last = date.fromisoformat(sub.last_answered) if sub.last_answered else None
        if last == today:
            return sub
        streak = sub.streak + 1 if last == today - timedelta(days=1) else 1
        return replace(sub, streak=streak, best_streak=max(sub.best_streak, streak), last_answered=today.isoformat())

    async def _rate(self, ctx: Ctx, rating: str, *, automatic: bool = False) -> srs.CardState:
        daily = ctx.state.daily
        assert daily is not None
        card = await self.answering.rate(ctx, daily.round_id, daily.question_id, rating)
        ctx.records.append(RoundRecord(daily.round_id, "daily", "", 1, "finished", ctx.now))
        ctx.state.daily = None
        if automatic:
            return card
        sub = await ctx.data.subscription("daily")
        zone_name = sub.zone if sub else "UTC"
        due = local_date(card.due, zone_name)
        days = (due - local_date(ctx.now, zone_name)).days
        ctx.say(
            f"Rated “{RATING_LABELS[rating]}”. This question comes back on {due:%a %d %b} (in {texts.plural(days, 'day')})."
        )
        return card
