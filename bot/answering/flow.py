"""Answering one question, wherever it was asked (a round, the daily question).

Its parts, hints, grade or skip, reference, self-rating, dispute and review card go through one place,
so a question behaves the same in every flow and a rating always schedules the question's review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.answering import srs
from bot.answering.records import AnswerRecord, CardRecord, DisputeReasonRecord, DisputeRecord, RatingRecord
from bot.answering.results import AnswerResult, PointResult, kind_of, topic_of
from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import Button, make_choice
from bot.exercises.checking import ExerciseChecker, runs_code
from bot.grading.bank_rubrics import rubric_for
from bot.grading.behavioral import analyse
from bot.grading.verdict import Grader, Verdict
from questions.schema import BehavioralQuestion, DesignScenario, TechnicalQuestion

MAX_ANSWER_CHARS = 20000
HINT_PENALTY = 0.3
MAX_REASON_CHARS = 1000
RATING_LABELS = {"again": "Again", "hard": "Hard", "good": "Good", "easy": "Easy"}

Gradable = TechnicalQuestion | BehavioralQuestion | DesignScenario


@dataclass(frozen=True)
class Choices:
    """The button ids of one place questions are asked. Their shapes predate this module and stay
    as they were, so buttons already sitting in users' chats keep working."""

    answer: str  # namespace of Done and Hint: "<answer>:done:<seq>"
    rating: str  # prefix of a rating: "<rating>:good:<seq>"
    dispute: str  # "This grade is wrong": "<dispute>:<seq>", then a point "<dispute>:<index|all|back>:<seq>"
    after_rating: str | None = None  # a Next button beside the ratings


class OpenAnswer(Protocol):
    """What a question keeps while it is being answered (a round's or the daily question's state)."""

    answer: list[str]
    hints_used: int
    graded: list[PointResult]  # the last grade's points, for "I did say this"
    disputing: bool  # a dispute was just recorded; the next message may give its reason


@dataclass(frozen=True)
class Graded:
    result: AnswerResult
    verdict: Verdict
    feedback: str  # score, the grader's feedback and any structure notes, ready to show


class AnswerFlow:
    def __init__(self, grader: Grader, exercises: ExerciseChecker | None = None) -> None:
        self.grader = grader
        self.exercises = exercises  # None: exercises are graded on their rubric only, nothing is run

    def collect(self, ctx: Ctx, open_: OpenAnswer, text: str, choices: Choices, *, quiet: bool = False) -> bool:
        """Keep one part of the answer; False when the answer is already as long as we keep.
        `quiet`: the part is the whole answer (a submitted form), so no "add more" prompt."""
        so_far = sum(len(p) for p in open_.answer)
        if so_far + len(text) > MAX_ANSWER_CHARS:
            ctx.say(
                f"Your answer is already {so_far:,} characters; that's the most I keep for one question. Press Done "
                "to have it graded.",
                [Button("Done", make_choice(choices.answer, "done", ctx.state.next_seq()))],
            )
            return False
        open_.answer.append(text.strip())
        if quiet:
            return True
        count = sum(len(p.split()) for p in open_.answer)
        seq = ctx.state.next_seq()
        done = make_choice(choices.answer, "done", seq)
        ctx.say(
            f"Noted ({texts.plural(count, 'word')} so far). Add more, or press Done when you're finished.",
            [Button("Done", done), Button("Hint", make_choice(choices.answer, "hint", seq))],
            answer_choice=done,
        )
        return True

    def hint(self, ctx: Ctx, open_: OpenAnswer, hints: Sequence[str]) -> None:
        if open_.hints_used >= len(hints):
            ctx.say(f"That was the last hint ({len(hints)} of {len(hints)}). Give it your best shot.")
            return
        open_.hints_used += 1
        ctx.say(
            f"💡 Hint {open_.hints_used}/{len(hints)}: {hints[open_.hints_used - 1]}\n"
            f"(Each hint costs {HINT_PENALTY} points of the 4.)"
        )

    async def grade(
        self, ctx: Ctx, item: Gradable, open_: OpenAnswer, *, round_id: str, started: datetime, stage: int = 0
    ) -> Graded:
        """Grade the collected answer, less the hints' penalty, and record it; the answer starts afresh."""
        answer = "\n".join(open_.answer).strip()
        checked = None
        if self.exercises is not None and runs_code(item):
            assert isinstance(item, TechnicalQuestion)
            checked = await self.exercises.check(item, answer, self.grader)
            verdict = checked.explanation
        else:
            verdict = await self.grader.grade(rubric_for(item, stage), answer)
        score, notes = (checked.score if checked else verdict.score), []
        if isinstance(item, BehavioralQuestion):
            star = analyse(answer)
            score = round(0.5 * verdict.score + 0.5 * star.score, 2)
            notes = star.notes
        penalty = HINT_PENALTY * open_.hints_used
        result = AnswerResult(
            **_identity(item, stage),
            score=round(max(0.0, score - penalty), 2),
            raw_score=score,
            hints_used=open_.hints_used,
            points=[
                PointResult(
                    point=p.point, status=p.status, evidence=p.evidence, weight=p.weight, correction=p.correction
                )
                for p in verdict.points
            ],
            seconds=int((ctx.now - started).total_seconds()),
            words=len(answer.split()),
            notes=notes,
        )
        stored = verdict.to_json() | ({"execution": checked.run.to_json()} if checked else {})
        ctx.records.append(AnswerRecord(round_id, result, answer, stored, ctx.now))
        open_.answer, open_.hints_used = [], 0
        open_.graded, open_.disputing = result.points, False
        head = f"Score: {result.score:.1f}/4" + (f" (hints cost {penalty:.1f})" if penalty else "")
        parts = [head, checked.feedback() if checked else verdict.feedback]
        if notes:
            parts.append("Structure:\n" + "\n".join(f"  • {n}" for n in notes))
        return Graded(result, verdict, "\n".join(p for p in parts if p))

    def skip(
        self, ctx: Ctx, item: Gradable, open_: OpenAnswer, *, round_id: str, started: datetime, stage: int = 0
    ) -> AnswerResult:
        """Record a skipped question with every key point missed, as a grade of it would be recorded;
        the answer starts afresh."""
        points = item.stages[stage].key_points if isinstance(item, DesignScenario) else item.key_points
        result = AnswerResult(
            **_identity(item, stage),
            skipped=True,
            points=[PointResult(point=p.point, status="missed", weight=p.weight) for p in points],
            seconds=int((ctx.now - started).total_seconds()),
        )
        ctx.records.append(AnswerRecord(round_id, result, "", {"skipped": True}, ctx.now))
        open_.answer, open_.hints_used, open_.graded = [], 0, []
        return result

    def reveal(self, ctx: Ctx, item: Gradable, note: str, choices: Choices) -> None:
        """What a strong answer looks like, then the self-rating."""
        if isinstance(item, BehavioralQuestion):
            ref = "How to structure a strong answer:\n" + item.structure
            ref += "\n\nInterviewers listen for: " + "; ".join(item.listens_for)
        elif isinstance(item, DesignScenario):
            ref = "Trade-offs a strong candidate raises:\n" + "\n".join(f"  • {t}" for t in item.trade_offs)
        else:
            ref = "Reference answer:\n" + item.reference_answer
        self.ask_rating(ctx, choices, f"{note}\n\n{ref}".strip())

    def ask_rating(self, ctx: Ctx, choices: Choices, note: str = "") -> None:
        seq = ctx.state.next_seq()
        buttons = [Button(RATING_LABELS[r], make_choice(choices.rating, r, seq)) for r in srs.RATINGS]
        buttons.append(Button("This grade is wrong", make_choice(choices.dispute, seq)))
        if choices.after_rating:
            buttons.append(Button("Next", make_choice(choices.after_rating, seq)))
        prefix = f"{note}\n\n" if note else ""
        ctx.say(prefix + "How well did you know this? Your rating schedules when it comes back for review.", buttons)

    def dispute(
        self, ctx: Ctx, open_: OpenAnswer, round_id: str, question_id: str, which: str, choices: Choices
    ) -> None:
        """ "This grade is wrong": first which point the candidate says they covered, then a record of
        it (the score stays as it is) and room for an optional reason."""
        if not which:
            seq = ctx.state.next_seq()
            doubtful = [(i, p) for i, p in enumerate(open_.graded) if p.status != "confirmed"]
            buttons = [
                Button(f"I did say: {_short(p.point)}", make_choice(choices.dispute, i, seq)) for i, p in doubtful
            ]
            buttons.append(Button("The score as a whole", make_choice(choices.dispute, "all", seq)))
            buttons.append(Button("Back", make_choice(choices.dispute, "back", seq)))
            ask = "Which point did you cover that I didn't credit?" if doubtful else "What did I get wrong?"
            ctx.say(ask + " I'll record it with your answer and my verdict for the rubric's authors.", buttons)
            return
        if which == "back":
            self.ask_rating(ctx, choices)
            return
        index = int(which) if which.isdigit() else -1
        if which != "all" and not 0 <= index < len(open_.graded):
            self.ask_rating(ctx, choices, "Sorry, I don't recognise that button.")
            return
        point = open_.graded[index] if which != "all" else None
        ctx.records.append(
            DisputeRecord(round_id, question_id, ctx.now, point.point if point else "", point.status if point else "")
        )
        open_.disputing = True
        what = f"that you covered “{point.point}”" if point else "that this grade is wrong"
        self.ask_rating(
            ctx,
            choices,
            f"Recorded {what}. Your score stays as it is; the rubric will be reviewed. If you want to say why, "
            "send it as a message now (optional).",
        )

    def dispute_reason(self, ctx: Ctx, open_: OpenAnswer, round_id: str, question_id: str, text: str) -> bool:
        """A message right after a dispute is its reason; False when no dispute is waiting for one."""
        if not open_.disputing:
            return False
        open_.disputing = False
        ctx.records.append(DisputeReasonRecord(round_id, question_id, text.strip()[:MAX_REASON_CHARS], ctx.now))
        return True

    async def rate(self, ctx: Ctx, round_id: str, question_id: str, rating: str) -> srs.CardState:
        """Record the rating and move the question's review card by it."""
        cards = await ctx.data.cards()
        profile = await ctx.profile()
        card = srs.review(cards.get(question_id), question_id, rating, ctx.now)
        ctx.records.append(CardRecord(profile.user_id, card))
        ctx.records.append(RatingRecord(round_id, question_id, rating, ctx.now))
        return card


def _identity(item: Gradable, stage: int) -> dict[str, Any]:
    """What a graded and a skipped answer both record about the question (and design stage) asked."""
    return {
        "question_id": item.id,
        "kind": kind_of(item),
        "section": item.section,
        "topic": topic_of(item),
        "stage": item.stages[stage].stage if isinstance(item, DesignScenario) else None,
    }


def _short(point: str, limit: int = 48) -> str:
    return point if len(point) <= limit else point[: limit - 1].rstrip() + "…"
