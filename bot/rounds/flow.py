"""A round in progress: asking, hints, answers, grading, follow-ups, self-ratings and the scorecard."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.answering.records import AnswerRecord, DisputeRecord, RatingRecord
from bot.answering.results import AnswerResult, PointResult
from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import Button, make_choice
from bot.core.state import DialogueState
from bot.grading.behavioral import analyse
from bot.grading.rubric import RubricGrader
from bot.grading.rubrics import rubric_for
from bot.grading.verdict import Grader, PointVerdict, Verdict
from bot.rounds import scorecard
from bot.rounds.presets import PRESETS
from bot.rounds.records import RoundRecord
from bot.rounds.selection import adapt_level, pick
from bot.rounds.state import RoundState, Track
from questions.loader import Bank
from questions.schema import BehavioralQuestion, DesignScenario, QuizQuestion, TechnicalQuestion
from questions.sections import SECTIONS

TRACKS: tuple[Track, ...] = ("technical", "behavioral", "mixed", "design", "quiz", "loop")
DIFFICULTIES = ("easy", "medium", "hard", "match")
LENGTHS = (3, 5, 8)
RATINGS = ("again", "hard", "good", "easy")
KIND_MINUTES = {"technical": 5.0, "behavioral": 3.0, "design": 40.0, "quiz": 0.5}

Asked = TechnicalQuestion | BehavioralQuestion | DesignScenario | QuizQuestion


class RoundFlow:
    def __init__(
        self,
        bank: Bank,
        clock: Callable[[], datetime],
        grader: Grader | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:16],
    ) -> None:
        self.bank = bank
        self.clock = clock
        self.rubric_grader = RubricGrader()
        self.grader: Grader = grader or self.rubric_grader
        self.new_id = new_id

    def _where(self, st: DialogueState) -> str:
        if st.mode == "round":
            return "Type your answer, or /help."
        if st.mode == "setup":
            return "Pick one of the options above, or /stop."
        return "Send /mock to start a round, or /help."

    def _new_round_button(self, ctx: Ctx) -> Button:
        return Button("Start a mock round", make_choice("mk", "go", ctx.state.seq))

    def _item(self, qid: str | None) -> Asked | None:
        item = self.bank.get(qid) if qid else None
        return (
            item if isinstance(item, TechnicalQuestion | BehavioralQuestion | DesignScenario | QuizQuestion) else None
        )

    async def _ask_current(self, ctx: Ctx, rnd: RoundState, note: str = "") -> None:
        """Pick the question for the current slot if needed, then show it."""
        if len(rnd.question_ids) <= rnd.slot:
            slot = rnd.current_slot
            recent = [self._section_of(q) for q in rnd.question_ids[-2:]]
            qid = pick(
                self.bank,
                slot.kind,
                rnd.level if rnd.difficulty == "match" and slot.kind != "design" else slot.difficulty,
                rnd.question_ids,
                await ctx.seen(),
                f"{rnd.round_id}:{rnd.slot}",
                role=PRESETS[rnd.preset].role if rnd.preset else None,
                seniority=PRESETS[rnd.preset].seniority if rnd.preset else None,
                sections=slot.sections or None,
                avoid_sections=recent,
            )
            if qid is None:
                # The bank has nothing left of this kind: move on to the next kind the plan has, if any.
                later = next((i for i in range(rnd.slot + 1, rnd.length) if rnd.plan[i].kind != slot.kind), None)
                if later is None:
                    ctx.say("I've run out of questions of this kind in the bank, so let's wrap up here.")
                    self._finish(ctx, rnd, "finished")
                    return
                ctx.say("I've run out of questions of this kind in the bank, so let's move on.")
                rnd.plan = rnd.plan[: rnd.slot] + rnd.plan[later:]
                await self._ask_current(ctx, rnd, note)
                return
            rnd.question_ids.append(qid)
            rnd.question_started = ctx.now
        self._show_current(ctx, note)

    def _section_of(self, qid: str) -> str:
        item = self._item(qid)
        return item.section if item else ""

    def _show_current(self, ctx: Ctx, note: str = "") -> None:
        st = ctx.state
        rnd = st.round
        item = self._item(rnd.current_id if rnd else None)
        if rnd is None or item is None:
            ctx.say(note or self._where(st))
            return
        if rnd.phase == "rate":
            self._ask_rating(ctx, note)
            return
        seq = st.next_seq()
        slot = rnd.current_slot
        head = f"Question {rnd.slot + 1}/{rnd.length}"
        if slot.label:
            head += f" · {slot.label}"
        prefix = f"{note}\n\n" if note else ""
        if isinstance(item, QuizQuestion):
            body = f"{head} · {item.section} {SECTIONS[item.section]}\n\n{item.question}"
            body += "\n" + "\n".join(f"{chr(65 + i)}. {o}" for i, o in enumerate(item.options))
            ctx.say(prefix + body, [Button(chr(65 + i), make_choice("qz", i, seq)) for i in range(len(item.options))])
            return
        if isinstance(item, DesignScenario):
            stage = item.stages[rnd.stage]
            intro = f"{item.title}\n{item.prompt}\n\n" if rnd.stage == 0 else ""
            body = f"{head} · Stage {rnd.stage + 1}/4: {texts.STAGE_LABELS[stage.stage]}\n\n{intro}{stage.prompt}"
        elif rnd.phase == "follow_up" and rnd.follow_up:
            body = f"Follow-up on question {rnd.slot + 1}/{rnd.length}:\n\n{rnd.follow_up}"
        else:
            body = f"{head} · {item.section} {SECTIONS[item.section]} · {item.difficulty}\n\n{item.prompt}"
        if rnd.answer:
            body += (
                f"\n\n(Your answer so far: {sum(len(p.split()) for p in rnd.answer)} words. Add more or press Done.)"
            )
        skip_label = "Skip follow-up" if rnd.phase == "follow_up" else "Skip"
        done = make_choice("rd", "done", seq)
        ctx.say(
            prefix + body,
            [
                Button("Done", done),
                Button("Hint", make_choice("rd", "hint", seq)),
                Button(skip_label, make_choice("rd", "skip", seq)),
            ],
            answer_choice=done,
        )

    def _add_answer_part(self, ctx: Ctx, rnd: RoundState, text: str, *, quiet: bool = False) -> bool:
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

    async def _round_command(self, ctx: Ctx, rnd: RoundState, name: str) -> None:
        item = self._item(rnd.current_id)
        if name == "repeat":
            self._show_current(ctx)
        elif name == "time":
            self._cmd_time(ctx, rnd, item)
        elif name == "pause":
            ctx.state.paused, ctx.state.round, ctx.state.mode = rnd, None, "idle"
            ctx.records.append(self._round_record(rnd, "paused", ctx.now))
            ctx.say(
                f"Paused at question {rnd.slot + 1}/{rnd.length}. Your answers so far are saved; "
                "send /mock whenever you want to resume."
            )
        elif name in ("stop", "cancel") or item is None:
            self._finish(ctx, rnd, "stopped")
        elif rnd.phase == "rate":
            if name in ("skip", "next", "done"):
                await self._advance(ctx, rnd)
            else:
                self._ask_rating(ctx, "Hints are for open questions; this one is done.")
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
            self._show_current(ctx, "Pick one of the options.")
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
            self._show_current(ctx, feedback)
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
        self._ask_rating(ctx, f"{note}\n\n{ref}".strip())

    def _ask_rating(self, ctx: Ctx, note: str = "") -> None:
        seq = ctx.state.next_seq()
        prefix = f"{note}\n\n" if note else ""
        ctx.say(
            prefix + "How well did you know this? Your rating schedules when it comes back for review.",
            [Button(texts.RATING_LABELS[r], make_choice("rt", r, seq)) for r in RATINGS]
            + [
                Button("This grade is wrong", make_choice("rt", "wrong", seq)),
                Button("Next", make_choice("rd", "next", seq)),
            ],
        )

    async def _rate(self, ctx: Ctx, rnd: RoundState, rating: str) -> None:
        qid = rnd.current_id or ""
        if rating == "wrong":
            ctx.records.append(DisputeRecord(rnd.round_id, qid, ctx.now))
            self._ask_rating(
                ctx, "Thanks, I've recorded that you think this grade is wrong; the rubric will be reviewed."
            )
            return
        ctx.records.append(RatingRecord(rnd.round_id, qid, rating, ctx.now))
        ctx.say(f"Rated “{texts.RATING_LABELS[rating]}”.")
        await self._advance(ctx, rnd)

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
            await self._advance(ctx, rnd)
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
            stage = texts.STAGE_LABELS[item.stages[rnd.stage].stage].lower()
            ctx.say(
                f"Skipping {stage}. In a real design interview, leaving this stage out is a red flag: "
                f"interviewers expect you to cover at least:\n{covers}"
            )
            await self._next_stage(ctx, rnd, item)
            return
        ctx.say(f"Skipped. A strong answer would cover:\n{covers}")
        await self._advance(ctx, rnd)

    def _skipped_result(self, ctx: Ctx, rnd: RoundState, item: Asked, points: list[PointResult]) -> AnswerResult:
        kind = (
            "quiz"
            if isinstance(item, QuizQuestion)
            else "design"
            if isinstance(item, DesignScenario)
            else ("behavioral" if isinstance(item, BehavioralQuestion) else "technical")
        )
        return AnswerResult(
            question_id=item.id,
            kind=kind,  # type: ignore[arg-type]
            section=item.section,
            topic=item.title
            if isinstance(item, DesignScenario)
            else getattr(item, "topic", getattr(item, "group", "")),
            stage=item.stages[rnd.stage].stage if isinstance(item, DesignScenario) else None,
            skipped=True,
            points=points,
            seconds=int((ctx.now - rnd.question_started).total_seconds()),
        )

    async def _next_stage(self, ctx: Ctx, rnd: RoundState, item: DesignScenario) -> None:
        if rnd.stage + 1 < len(item.stages):
            rnd.stage += 1
            rnd.question_started = ctx.now
            self._show_current(ctx)
            return
        self._reveal(ctx, rnd, item, "That completes the four stages.")

    async def _quiz_answer(self, ctx: Ctx, rnd: RoundState, option: int) -> None:
        item = self._item(rnd.current_id)
        if not isinstance(item, QuizQuestion) or option >= len(item.options):
            ctx.say("Sorry, I don't recognise that button. " + self._where(ctx.state))
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
        await self._advance(ctx, rnd)

    async def _advance(self, ctx: Ctx, rnd: RoundState) -> None:
        previous_label = rnd.current_slot.label
        rnd.slot += 1
        rnd.stage, rnd.answer, rnd.hints_used, rnd.follow_up, rnd.phase = 0, [], 0, None, "answer"
        if rnd.difficulty == "match":
            rnd.level = adapt_level(rnd.level, rnd.results[-1] if rnd.results else None)
        if rnd.slot >= rnd.length:
            self._finish(ctx, rnd, "finished")
            return
        note = ""
        if rnd.track == "loop" and rnd.current_slot.label != previous_label:
            labels = list(dict.fromkeys(s.label for s in rnd.plan))
            part = labels.index(rnd.current_slot.label) + 1
            note = f"Part {part} of {len(labels)}: {rnd.current_slot.label}."
        await self._ask_current(ctx, rnd, note)

    def _finish(self, ctx: Ctx, rnd: RoundState, status: str) -> None:
        st = ctx.state
        st.mode, st.round = "idle", None
        if not rnd.results:
            ctx.records.append(self._round_record(rnd, "stopped", ctx.now))
            ctx.say(
                "Round stopped before any answer, so there's no scorecard. Send /mock to start again.",
                [self._new_round_button(ctx)],
            )
            return
        card = scorecard.build(rnd.results)
        card["track"] = rnd.track
        if rnd.track == "quiz":
            right = sum(1 for r in rnd.results if r.score > 0)
            title = f"🏁 Quiz drill complete: {right}/{len(rnd.results)} correct"
        else:
            title = "📋 " + ("Combined scorecard" if rnd.track == "loop" else "Scorecard")
            if status == "stopped":
                title += f" (stopped after {texts.plural(len(rnd.results), 'answer')})"
        text = scorecard.render(card)
        if rnd.track in ("behavioral", "loop", "mixed") and self.bank.cards:
            card_item = next(iter(self.bank.cards.values()))
            text += f"\n\n{card_item.title}\n{card_item.advice}\n" + "\n".join(f"  • {q}" for q in card_item.items[:6])
        ctx.records.append(self._round_record(rnd, status, ctx.now, card))
        ctx.say(
            text + "\n\nIt's saved in your /history. Send /mock for another round.",
            [self._new_round_button(ctx)],
            title=title,
        )

    def _round_record(
        self, rnd: RoundState, status: str, now: datetime, card: dict[str, Any] | None = None
    ) -> RoundRecord:
        return RoundRecord(rnd.round_id, rnd.track, rnd.difficulty, rnd.length, status, now, card)
