"""A channel quiz being run: its questions as polls, members' answers, and the results when it closes."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import Poll
from bot.delivery.ports import ScheduledRecord
from bot.quiz.leaderboard import leaderboard
from bot.quiz.records import QuizAnswerRecord, QuizRunRecord, QuizRunView
from bot.subscriptions.settings import in_topics
from bot.subscriptions.subscription import Subscription
from questions.loader import Bank

CLOSE_GRACE = timedelta(seconds=5)  # Telegram closes a poll on its own clock; answers may trail it a little
SENDING_LIMIT = timedelta(minutes=15)  # polls still not out by then (a platform outage) no longer hold the results


class ChannelQuiz:
    def __init__(self, bank: Bank, new_id: Callable[[], str]) -> None:
        self.bank = bank
        self.new_id = new_id

    def _pick(self, sub: Subscription, seen: dict[str, int], seed: str) -> list[str]:
        """Questions few members of this group have answered come first."""
        want = None if sub.difficulty == "match" else sub.difficulty
        pool = [
            q
            for q in self.bank.quiz.values()
            if in_topics(q.section, sub.topics) and (not want or q.difficulty == want)
        ]
        if len(pool) < sub.count:
            pool = [q for q in self.bank.quiz.values() if in_topics(q.section, sub.topics)] or list(
                self.bank.quiz.values()
            )
        rng = random.Random(seed)
        ranked = sorted(pool, key=lambda q: (seen.get(q.id, 0), rng.random()))
        return [q.id for q in ranked[: sub.count]]

    async def start(self, ctx: Ctx, sub: Subscription | None = None) -> None:
        sub = sub or await ctx.data.subscription("quiz")
        if sub is None:
            return
        seen = await ctx.data.group_seen()
        run_id = self.new_id()
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
            q = self.bank.quiz[qid]
            poll = Poll(q.question, tuple(q.options), q.answer, q.explanation, sub.open_period, f"{run_id}:{i}")
            ctx.say("", poll=poll, private=False)
        ev = ctx.event
        ctx.records.append(QuizRunRecord(run_id, ev.platform, ev.chat_id, tuple(ids), ctx.now, closes, "open"))
        self._close_at(ctx, run_id, closes + CLOSE_GRACE)

    @staticmethod
    def _close_at(ctx: Ctx, run_id: str, at: datetime) -> None:
        ev = ctx.event
        key = f"close:{run_id}:{int(at.timestamp())}"
        ctx.records.append(
            ScheduledRecord(key, "quiz_close", ev.platform, ev.chat_id, "group", run_id, at, ev.thread_id)
        )

    @staticmethod
    def _last_close(run: QuizRunView, now: datetime) -> datetime:
        """When the last question closes: each is open for the same time from when its poll went out,
        and polls go out one by one (a second or more apart), so the last closes well after the first."""
        opened = run.opened_at or now
        last = max(run.sent_at.values(), default=opened)
        if len(run.sent_at) < len(run.question_ids) and now < opened + SENDING_LIMIT:
            last = max(last, now)  # some polls are still going out
        return last + timedelta(seconds=run.open_seconds) + CLOSE_GRACE

    async def answer(self, ctx: Ctx, ref: str, option: int) -> None:
        run_id, _, index = ref.rpartition(":")
        run = await ctx.data.quiz_run(run_id) if index.isdigit() else None
        if run is None or int(index) >= len(run.question_ids):
            ctx.say("I don't recognise that quiz.", private=True)
            return
        if run.status != "open":
            ctx.say("This quiz has closed; your answer wasn't counted.", private=True)
            return
        i = int(index)
        sent = run.sent_at.get(i)
        if sent is not None and ctx.now > sent + timedelta(seconds=run.open_seconds) + CLOSE_GRACE:
            ctx.say("This question has closed; your answer wasn't counted.", private=True)
            return
        profile = await ctx.profile()
        if any(u == profile.user_id and qi == i for u, _, qi, _ in run.answers):
            ctx.say("You already answered this one; your first answer counts.", private=True)
            return
        qid = run.question_ids[i]
        q = self.bank.quiz.get(qid)
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
        due = self._last_close(run, ctx.now)
        if due > ctx.now:  # a question is still open: results now would cut its answers off
            self._close_at(ctx, run_id, due)
            return
        ctx.records.append(
            QuizRunRecord(run_id, ctx.event.platform, ctx.event.chat_id, run.question_ids, ctx.now, ctx.now, "closed")
        )
        lines = ["🏁 Quiz results"]
        per_user: dict[str, int] = defaultdict(int)
        for i, qid in enumerate(run.question_ids):
            q = self.bank.quiz.get(qid)
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
        await leaderboard(ctx)
