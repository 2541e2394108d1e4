"""A round's question being answered: what only rounds have (follow-ups, design stages, quiz picks,
skips, /repeat, /time, /pause, /stop) around the shared AnswerFlow."""

from __future__ import annotations

from bot.answering.flow import HINT_PENALTY, RATING_LABELS
from bot.answering.records import AnswerRecord
from bot.answering.results import AnswerResult
from bot.core import texts
from bot.core.context import Ctx
from bot.grading.bank_rubrics import follow_up_rubric, follow_ups_of, rubric_for
from bot.grading.verdict import CREDIT, PointVerdict
from bot.rounds import facts, follow_ups
from bot.rounds.flow import ROUND, STAGE_LABELS, Asked, RoundFlow, round_record
from bot.rounds.state import RoundState
from questions.schema import DesignScenario, QuizQuestion


def acknowledge(result: AnswerResult) -> str:
    """One line on the answer just given: the main thing to fix, or the strongest thing it got right."""
    wrong = [p for p in result.points if p.status == "contradicted"]
    if wrong:
        top = max(wrong, key=lambda p: p.weight)
        return f"The one thing to take away: {top.correction or top.point}"
    right = [p for p in result.points if p.status == "confirmed"]
    if right:
        top = max(right, key=lambda p: p.weight)
        return f"You had the key idea there: {top.point[0].lower()}{top.point[1:]}."
    return ""


class RoundAnswers:
    def __init__(self, flow: RoundFlow) -> None:
        self.flow = flow
        self.answering = flow.answering

    async def text(self, ctx: Ctx, text: str) -> None:
        rnd = ctx.state.round
        assert rnd is not None
        if rnd.phase == "rate":
            if self.answering.dispute_reason(ctx, rnd, rnd.round_id, rnd.current_id or "", text):
                self.answering.ask_rating(ctx, ROUND, "Thanks, I've added your reason to the dispute.")
            else:
                self.answering.ask_rating(ctx, ROUND, "Before we move on, how well did you know this one?")
        elif rnd.current_slot.kind == "quiz":
            self.flow.show_current(ctx, "Pick one of the options.")
        elif isinstance(item := self.flow.item(rnd.current_id), DesignScenario) and facts.is_question(text):
            ctx.say(facts.answer(item, text))
        else:
            self.answering.collect(ctx, rnd, text, ROUND)

    async def ask(self, ctx: Ctx, rnd: RoundState, question: str) -> None:
        """/ask in a design round: a clarifying question, answered from the scenario's facts."""
        item = self.flow.item(rnd.current_id)
        if not isinstance(item, DesignScenario) or rnd.phase == "rate":
            ctx.say("/ask is for clarifying questions during a system design round. " + ctx.where())
        elif not question.strip():
            ctx.say("Ask me something about the scenario, for example: /ask how many users do we have?")
        else:
            ctx.say(facts.answer(item, question))

    async def submit(self, ctx: Ctx, text: str) -> bool:
        """A whole answer from a form; False when no answer is open for it."""
        rnd = ctx.state.round
        if ctx.state.mode != "round" or rnd is None or rnd.phase == "rate":
            return False
        if self.answering.collect(ctx, rnd, text, ROUND, quiet=True):
            await self.command(ctx, rnd, "done")
        return True

    async def command(self, ctx: Ctx, rnd: RoundState, name: str) -> None:
        item = self.flow.item(rnd.current_id)
        if name == "repeat":
            self.flow.show_current(ctx)
        elif name == "time":
            self._time(ctx, rnd, item)
        elif name == "pause":
            ctx.state.paused, ctx.state.round, ctx.state.mode = rnd, None, "idle"
            ctx.records.append(round_record(rnd, "paused", ctx.now))
            ctx.say(
                f"Paused at question {rnd.slot + 1}/{rnd.length}. Your answers so far are saved; "
                "send /mock whenever you want to resume."
            )
        elif name in ("stop", "cancel") or item is None:
            self.flow.finish(ctx, rnd, "stopped")
        elif rnd.phase == "rate":
            if name in ("skip", "next", "done"):
                await self.flow.advance(ctx, rnd)
            else:
                self.answering.ask_rating(ctx, ROUND, "Hints are for open questions; this one is done.")
        elif name == "hint":
            self._hint(ctx, rnd, item)
        elif name == "done":
            await self._done(ctx, rnd, item)
        elif name in ("skip", "next"):
            await self._skip(ctx, rnd, item)

    def _time(self, ctx: Ctx, rnd: RoundState, item: Asked | None) -> None:
        on_q = (ctx.now - rnd.question_started).total_seconds()
        total = (ctx.now - rnd.started).total_seconds()
        expected = getattr(item, "minutes", None)
        if isinstance(item, DesignScenario):
            expected = round(item.minutes / 4)
        exp = f" (about {expected} min expected)" if expected else ""
        ctx.say(f"⏱ {texts.duration(on_q)} on this question{exp}; {texts.duration(total)} in this round so far.")

    def _hint(self, ctx: Ctx, rnd: RoundState, item: Asked) -> None:
        if isinstance(item, QuizQuestion):
            ctx.say("There are no hints in a quiz drill; make your best guess.")
            return
        hints = item.stages[rnd.stage].hints if isinstance(item, DesignScenario) else item.hints
        if rnd.phase == "follow_up":
            ctx.say("No hints for follow-ups: answer with what you know, or press Skip follow-up.")
            return
        self.answering.hint(ctx, rnd, hints)

    async def _done(self, ctx: Ctx, rnd: RoundState, item: Asked) -> None:
        if isinstance(item, QuizQuestion):
            self.flow.show_current(ctx, "Pick one of the options.")
            return
        answer = "\n".join(rnd.answer).strip()
        if not answer:
            ctx.say("You haven't written an answer yet. Type it (in one or several messages), or /skip.")
            return
        if rnd.phase == "follow_up":
            await self._grade_follow_up(ctx, rnd, item, answer)
            return
        graded = await self.answering.grade(
            ctx, item, rnd, round_id=rnd.round_id, started=rnd.question_started, stage=rnd.stage
        )
        rnd.results.append(graded.result)
        feedback = graded.feedback
        if not self._probe(ctx, rnd, item, feedback):
            if isinstance(item, DesignScenario):
                ctx.say(feedback)
                await self._next_stage(ctx, rnd, item)
            else:
                self._reveal(ctx, rnd, item, feedback)

    def _probe(self, ctx: Ctx, rnd: RoundState, item: Asked, note: str) -> bool:
        """Ask the follow-up (or design probe) aimed at what the last answer missed; False when there is none."""
        assert not isinstance(item, QuizQuestion)
        probe = follow_ups.choose(
            follow_ups_of(item, rnd.stage), rnd.results[-1].points, only_gaps=isinstance(item, DesignScenario)
        )
        if probe is None:
            return False
        rnd.phase, rnd.follow_up, rnd.follow_up_index = "follow_up", probe.ask, probe.index
        rnd.question_started = ctx.now
        self.flow.show_current(ctx, "\n\n".join(p for p in (note, probe.why) if p))
        return True

    async def _grade_follow_up(self, ctx: Ctx, rnd: RoundState, item: Asked, answer: str) -> None:
        """Graded on its own rubric; it also earns back main points it states (up to the full score)."""
        assert not isinstance(item, QuizQuestion)
        result = rnd.results[-1]
        index = rnd.follow_up_index or 0
        own_rubric = follow_up_rubric(item, index, rnd.stage)
        own = await self.answering.grader.grade(own_rubric, answer)
        main = await self.answering.grader.grade(rubric_for(item, rnd.stage), answer)
        ask = rnd.follow_up
        rnd.answer = []
        if "dont_know" in main.flags or "dont_know" in own.flags:
            ctx.records.append(
                AnswerRecord(rnd.round_id, result, answer, {"follow_up": ask, "dont_know": True}, ctx.now, True)
            )
            teach = own_rubric.reference.strip()
            note = "That's fine; it's a good one to learn." + (f" In short: {teach}" if teach else "")
            await self._after_follow_up(ctx, rnd, item, note)
            return
        gained: list[str] = []
        later: dict[str, PointVerdict] = {p.point: p for p in main.points}
        for p in result.points:
            now = later.get(p.point)
            if p.status != "confirmed" and now is not None and now.status == "confirmed":
                p.status, p.evidence = "confirmed", now.evidence
                gained.append(p.point)
        if gained:
            total = sum(p.weight for p in result.points) or 1
            new_raw = 4.0 * max(0.0, sum(p.weight * CREDIT[p.status] for p in result.points)) / total
            if new_raw > result.raw_score:
                result.raw_score = round(new_raw, 2)
                result.score = round(max(0.0, new_raw - HINT_PENALTY * result.hints_used), 2)
        verdict = {"follow_up": ask, "gained": gained, "own": own.to_json()}
        ctx.records.append(AnswerRecord(rnd.round_id, result, answer, verdict, ctx.now, follow_up=True))
        parts = [f"Follow-up: {own.score:.1f}/4\n{own.feedback}"]
        if gained:
            parts.append("That also covered " + "; ".join(gained) + f". Score now {result.score:.1f}/4.")
        if own_rubric.reference:
            parts.append("A strong follow-up answer: " + own_rubric.reference.strip())
        await self._after_follow_up(ctx, rnd, item, "\n\n".join(parts))

    async def _after_follow_up(self, ctx: Ctx, rnd: RoundState, item: Asked, note: str) -> None:
        assert not isinstance(item, QuizQuestion)
        rnd.follow_up, rnd.follow_up_index, rnd.phase = None, None, "answer"
        if isinstance(item, DesignScenario):
            ctx.say(note)
            await self._next_stage(ctx, rnd, item)
        else:
            self._reveal(ctx, rnd, item, note)

    def _reveal(self, ctx: Ctx, rnd: RoundState, item: Asked, note: str) -> None:
        assert not isinstance(item, QuizQuestion)  # a drill's answer shows at once, with nothing to rate
        rnd.phase = "rate"
        rnd.follow_up = None
        self.answering.reveal(ctx, item, note, ROUND)

    async def rate(self, ctx: Ctx, rnd: RoundState, rating: str, which: str = "") -> None:
        qid = rnd.current_id or ""
        if rating == "wrong":
            self.answering.dispute(ctx, rnd, rnd.round_id, qid, which, ROUND)
            return
        await self.answering.rate(ctx, rnd.round_id, qid, rating)
        last = rnd.results[-1] if rnd.results and rnd.results[-1].question_id == qid else None
        ctx.say(f"Rated “{RATING_LABELS[rating]}”." + (f" {acknowledge(last)}" if last else ""))
        await self.flow.advance(ctx, rnd)

    async def _skip(self, ctx: Ctx, rnd: RoundState, item: Asked) -> None:
        if rnd.phase == "follow_up":
            rnd.answer = []
            await self._after_follow_up(ctx, rnd, item, "Follow-up skipped.")
            return
        if isinstance(item, QuizQuestion):
            result = AnswerResult(
                question_id=item.id,
                kind="quiz",
                section=item.section,
                topic=item.topic,
                skipped=True,
                seconds=int((ctx.now - rnd.question_started).total_seconds()),
            )
            ctx.say(f"Skipped. The answer was {chr(65 + item.answer)}. {item.options[item.answer]}: {item.explanation}")
            rnd.results.append(result)
            ctx.records.append(AnswerRecord(rnd.round_id, result, "", {"skipped": True}, ctx.now))
            await self.flow.advance(ctx, rnd)
            return
        result = self.answering.skip(
            ctx, item, rnd, round_id=rnd.round_id, started=rnd.question_started, stage=rnd.stage
        )
        rnd.results.append(result)
        covers = "\n".join(f"  • {p.point}" for p in result.points)
        if isinstance(item, DesignScenario):
            stage = STAGE_LABELS[item.stages[rnd.stage].stage].lower()
            note = (
                f"Skipping {stage}. In a real design interview, leaving this stage out is a red flag: "
                f"interviewers expect you to cover at least:\n{covers}"
            )
            if not self._probe(ctx, rnd, item, note + "\n\nBefore we move on, one question on it."):
                ctx.say(note)
                await self._next_stage(ctx, rnd, item)
            return
        await self.answering.rate(ctx, rnd.round_id, item.id, "again")  # a skipped question comes back soon
        ctx.say(f"Skipped. A strong answer would cover:\n{covers}")
        await self.flow.advance(ctx, rnd)

    async def _next_stage(self, ctx: Ctx, rnd: RoundState, item: DesignScenario) -> None:
        if rnd.stage + 1 < len(item.stages):
            rnd.stage += 1
            rnd.question_started = ctx.now
            self.flow.show_current(ctx)
            return
        self._reveal(ctx, rnd, item, "That completes the four stages.")

    async def quiz_answer(self, ctx: Ctx, rnd: RoundState, option: int) -> None:
        item = self.flow.item(rnd.current_id)
        if not isinstance(item, QuizQuestion) or option >= len(item.options):
            ctx.say("Sorry, I don't recognise that button. " + ctx.where())
            return
        right = option == item.answer
        result = AnswerResult(
            question_id=item.id,
            kind="quiz",
            section=item.section,
            topic=item.topic,
            score=4.0 if right else 0.0,
            raw_score=4.0 if right else 0.0,
            seconds=int((ctx.now - rnd.question_started).total_seconds()),
        )
        rnd.results.append(result)
        ctx.records.append(
            AnswerRecord(rnd.round_id, result, item.options[option], {"option": option, "correct": right}, ctx.now)
        )
        correct = sum(1 for r in rnd.results if r.kind == "quiz" and r.score > 0)
        verdict = (
            "✅ Correct!"
            if right
            else f"❌ Not quite. The answer is {chr(65 + item.answer)}. {item.options[item.answer]}."
        )
        ctx.say(f"{verdict} {item.explanation}\nScore so far: {correct}/{len(rnd.results)}")
        await self.flow.advance(ctx, rnd)
