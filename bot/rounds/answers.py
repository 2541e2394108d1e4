"""Answering inside a round: the answer's parts, hints, grading, follow-ups, design stages,
quiz picks, skips and the self-rating; /repeat, /time, /pause and /stop."""

from __future__ import annotations

from bot.answering.records import AnswerRecord, DisputeRecord, RatingRecord
from bot.answering.results import AnswerResult, PointResult, kind_of, topic_of
from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import Button, make_choice
from bot.grading.behavioral import analyse
from bot.grading.rubrics import rubric_for
from bot.grading.verdict import Grader, PointVerdict, Verdict
from bot.rounds.flow import STAGE_LABELS, Asked, RoundFlow, round_record
from bot.rounds.state import RoundState
from questions.schema import BehavioralQuestion, DesignScenario, QuizQuestion, TechnicalQuestion


class RoundAnswers:
    def __init__(self, flow: RoundFlow, grader: Grader) -> None:
        self.flow = flow
        self.grader = grader

    async def text(self, ctx: Ctx, text: str) -> None:
        rnd = ctx.state.round
        assert rnd is not None
        if rnd.phase == "rate":
            self.flow.ask_rating(ctx, "Before we move on, how well did you know this one?")
        elif rnd.current_slot.kind == "quiz":
            self.flow.show_current(ctx, "Pick one of the options.")
        else:
            self.add_part(ctx, rnd, text)

    async def submit(self, ctx: Ctx, text: str) -> bool:
        """A whole answer from a form; False when no answer is open for it."""
        rnd = ctx.state.round
        if ctx.state.mode != "round" or rnd is None or rnd.phase == "rate":
            return False
        if self.add_part(ctx, rnd, text, quiet=True):
            await self.command(ctx, rnd, "done")
        return True

    def add_part(self, ctx: Ctx, rnd: RoundState, text: str, *, quiet: bool = False) -> bool:
        """Keep one part of the answer; False when the answer is already as long as we keep.
        `quiet`: the part is the whole answer (a submitted form), so no "add more" prompt."""
        so_far = sum(len(p) for p in rnd.answer)
        if so_far + len(text) > texts.MAX_ANSWER_CHARS:
            ctx.say(
                f"Your answer is already {so_far:,} characters; that's the most I keep for one question. Press Done "
                "to have it graded.",
                [Button("Done", make_choice("rd", "done", ctx.state.next_seq()))],
            )
            return False
        rnd.answer.append(text.strip())
        if quiet:
            return True
        count = sum(len(p.split()) for p in rnd.answer)
        seq = ctx.state.next_seq()
        done = make_choice("rd", "done", seq)
        ctx.say(
            f"Noted ({texts.plural(count, 'word')} so far). Add more, or press Done when you're finished.",
            [Button("Done", done), Button("Hint", make_choice("rd", "hint", seq))],
            answer_choice=done,
        )
        return True

    async def command(self, ctx: Ctx, rnd: RoundState, name: str) -> None:
        item = self.flow.item(rnd.current_id)
        if name == "repeat":
            self.flow.show_current(ctx)
        elif name == "time":
            self._cmd_time(ctx, rnd, item)
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
                self.flow.ask_rating(ctx, "Hints are for open questions; this one is done.")
        elif name == "hint":
            self._hint(ctx, rnd, item)
        elif name == "done":
            await self._done(ctx, rnd, item)
        elif name in ("skip", "next"):
            await self._skip(ctx, rnd, item)

    def _cmd_time(self, ctx: Ctx, rnd: RoundState, item: Asked | None) -> None:
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
        if rnd.hints_used >= len(hints):
            ctx.say(f"That was the last hint ({len(hints)} of {len(hints)}). Give it your best shot.")
            return
        rnd.hints_used += 1
        ctx.say(
            f"💡 Hint {rnd.hints_used}/{len(hints)}: {hints[rnd.hints_used - 1]}\n"
            f"(Each hint costs {texts.HINT_PENALTY} points of the 4.)"
        )

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
        rubric = rubric_for(item, rnd.stage) if not isinstance(item, QuizQuestion) else None
        assert rubric is not None
        verdict = await self.grader.grade(rubric, answer)
        notes: list[str] = []
        score = verdict.score
        if isinstance(item, BehavioralQuestion):
            star = analyse(answer)
            score = round(0.5 * verdict.score + 0.5 * star.score, 2)
            notes = star.notes
        penalty = texts.HINT_PENALTY * rnd.hints_used
        result = AnswerResult(
            question_id=item.id,
            kind="design"
            if isinstance(item, DesignScenario)
            else "behavioral"
            if isinstance(item, BehavioralQuestion)
            else "technical",
            section=item.section,
            topic=item.title
            if isinstance(item, DesignScenario)
            else getattr(item, "topic", getattr(item, "group", "")),
            stage=item.stages[rnd.stage].stage if isinstance(item, DesignScenario) else None,
            score=round(max(0.0, score - penalty), 2),
            raw_score=score,
            hints_used=rnd.hints_used,
            points=[
                PointResult(point=p.point, status=p.status, evidence=p.evidence, weight=p.weight)
                for p in verdict.points
            ],
            seconds=int((ctx.now - rnd.question_started).total_seconds()),
            words=len(answer.split()),
            notes=notes,
        )
        rnd.results.append(result)
        ctx.records.append(AnswerRecord(rnd.round_id, result, answer, verdict.to_json(), ctx.now))
        rnd.answer, rnd.hints_used = [], 0
        feedback = self._feedback_text(result, verdict, notes, penalty)
        if isinstance(item, DesignScenario):
            ctx.say(feedback)
            await self._next_stage(ctx, rnd, item)
            return
        follow_up = verdict.follow_up or (item.follow_ups[0] if item.follow_ups else None)
        if follow_up:
            rnd.phase, rnd.follow_up = "follow_up", follow_up
            rnd.question_started = ctx.now
            self.flow.show_current(ctx, feedback)
        else:
            self._reveal(ctx, rnd, item, feedback)

    def _feedback_text(self, result: AnswerResult, verdict: Verdict, notes: list[str], penalty: float) -> str:
        head = f"Score: {result.score:.1f}/4"
        if penalty:
            head += f" (hints cost {penalty:.1f})"
        parts = [head, verdict.feedback]
        if notes:
            parts.append("Structure:\n" + "\n".join(f"  • {n}" for n in notes))
        return "\n".join(p for p in parts if p)

    async def _grade_follow_up(self, ctx: Ctx, rnd: RoundState, item: Asked, answer: str) -> None:
        """A follow-up can earn back half of what the main answer missed."""
        result = rnd.results[-1]
        assert not isinstance(item, QuizQuestion | DesignScenario)
        open_points = [p for p in result.points if p.status != "covered"]
        gained: list[str] = []
        if open_points:
            rubric = rubric_for(item)
            verdict = await self.grader.grade(rubric, answer)
            now: dict[str, PointVerdict] = {p.point: p for p in verdict.points}
            for p in open_points:
                later = now.get(p.point)
                if later is not None and later.status != "missed":
                    p.status = "partly" if p.status == "missed" else "covered"
                    p.evidence = later.evidence
                    gained.append(p.point)
            total = sum(p.weight for p in result.points) or 1
            earned = sum(
                p.weight * (1.0 if p.status == "covered" else 0.5 if p.status == "partly" else 0.0)
                for p in result.points
            )
            new_raw = 4.0 * earned / total
            if gained and new_raw > result.raw_score:
                result.raw_score = round(new_raw, 2)
                result.score = round(max(0.0, new_raw - texts.HINT_PENALTY * result.hints_used), 2)
        ctx.records.append(
            AnswerRecord(
                rnd.round_id, result, answer, {"follow_up": rnd.follow_up, "gained": gained}, ctx.now, follow_up=True
            )
        )
        rnd.answer = []
        if gained:
            note = "Good follow-up: that added " + "; ".join(gained) + f". Score now {result.score:.1f}/4."
        else:
            note = "Thanks. That follow-up didn't add the points that were missing."
        self._reveal(ctx, rnd, item, note)

    def _reveal(self, ctx: Ctx, rnd: RoundState, item: Asked, note: str) -> None:
        if isinstance(item, BehavioralQuestion):
            ref = "How to structure a strong answer:\n" + item.structure
            ref += "\n\nInterviewers listen for: " + "; ".join(item.listens_for)
        elif isinstance(item, DesignScenario):
            ref = "Trade-offs a strong candidate raises:\n" + "\n".join(f"  • {t}" for t in item.trade_offs)
        elif isinstance(item, TechnicalQuestion):
            ref = "Reference answer:\n" + item.reference_answer
        else:
            ref = ""
        rnd.phase = "rate"
        rnd.follow_up = None
        self.flow.ask_rating(ctx, f"{note}\n\n{ref}".strip())

    async def rate(self, ctx: Ctx, rnd: RoundState, rating: str) -> None:
        qid = rnd.current_id or ""
        if rating == "wrong":
            ctx.records.append(DisputeRecord(rnd.round_id, qid, ctx.now))
            self.flow.ask_rating(
                ctx, "Thanks, I've recorded that you think this grade is wrong; the rubric will be reviewed."
            )
            return
        ctx.records.append(RatingRecord(rnd.round_id, qid, rating, ctx.now))
        ctx.say(f"Rated “{texts.RATING_LABELS[rating]}”.")
        await self.flow.advance(ctx, rnd)

    async def _skip(self, ctx: Ctx, rnd: RoundState, item: Asked) -> None:
        if rnd.phase == "follow_up":
            rnd.answer = []
            self._reveal(ctx, rnd, item, "Follow-up skipped.")
            return
        if isinstance(item, QuizQuestion):
            result = self._skipped_result(ctx, rnd, item, [])
            ctx.say(f"Skipped. The answer was {chr(65 + item.answer)}. {item.options[item.answer]}: {item.explanation}")
            rnd.results.append(result)
            ctx.records.append(AnswerRecord(rnd.round_id, result, "", {"skipped": True}, ctx.now))
            await self.flow.advance(ctx, rnd)
            return
        points = item.stages[rnd.stage].key_points if isinstance(item, DesignScenario) else item.key_points
        result = self._skipped_result(
            ctx, rnd, item, [PointResult(point=p.point, status="missed", weight=p.weight) for p in points]
        )
        rnd.results.append(result)
        ctx.records.append(AnswerRecord(rnd.round_id, result, "", {"skipped": True}, ctx.now))
        rnd.answer, rnd.hints_used = [], 0
        covers = "\n".join(f"  • {p.point}" for p in points)
        if isinstance(item, DesignScenario):
            stage = STAGE_LABELS[item.stages[rnd.stage].stage].lower()
            ctx.say(
                f"Skipping {stage}. In a real design interview, leaving this stage out is a red flag: "
                f"interviewers expect you to cover at least:\n{covers}"
            )
            await self._next_stage(ctx, rnd, item)
            return
        ctx.say(f"Skipped. A strong answer would cover:\n{covers}")
        await self.flow.advance(ctx, rnd)

    def _skipped_result(self, ctx: Ctx, rnd: RoundState, item: Asked, points: list[PointResult]) -> AnswerResult:
        return AnswerResult(
            question_id=item.id,
            kind=kind_of(item),
            section=item.section,
            topic=topic_of(item),
            stage=item.stages[rnd.stage].stage if isinstance(item, DesignScenario) else None,
            skipped=True,
            points=points,
            seconds=int((ctx.now - rnd.question_started).total_seconds()),
        )

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
