"""Grade every reference answer against its own rubric: a rubric its own reference misses is broken."""

from __future__ import annotations

from dataclasses import dataclass

from bot.grading.bank_rubrics import rubric_for
from bot.grading.rubric import RubricGrader
from bot.grading.verdict import Rubric
from questions.loader import Bank


@dataclass(frozen=True)
class SelfGrade:
    item_id: str  # a technical question id, or "scenario-id#stage" for a design stage
    score: float
    missed: tuple[str, ...]
    flags: tuple[str, ...]


def self_grades(bank: Bank) -> list[SelfGrade]:
    """Lowest first, so the rubrics most in need of work head the list."""
    pairs: list[tuple[Rubric, str]] = [(rubric_for(q), q.reference_answer) for q in bank.technical.values()]
    pairs += [(rubric_for(s, i), st.reference) for s in bank.design.values() for i, st in enumerate(s.stages)]
    grader = RubricGrader()
    out = []
    for rubric, reference in pairs:
        verdict = grader.grade_sync(rubric, reference)
        missed = tuple(p.point for p in verdict.points if p.status == "missed")
        out.append(SelfGrade(rubric.question_id, verdict.score, missed, tuple(verdict.flags)))
    return sorted(out, key=lambda g: (g.score, g.item_id))
