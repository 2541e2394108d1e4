"""Grade every reference answer against its own rubric: a rubric its own reference misses is broken."""

from __future__ import annotations

from dataclasses import dataclass

from bot.grading.bank_rubrics import Gradable, follow_up_rubric, follow_ups_of, rubric_for
from bot.grading.claims import ClaimGrader
from bot.grading.verdict import Rubric
from questions.loader import Bank


@dataclass(frozen=True)
class SelfGrade:
    item_id: str  # a question id, "scenario-id#stage" for a design stage, ".../fN" for a follow-up
    score: float
    missed: tuple[str, ...]  # points the reference does not confirm
    flags: tuple[str, ...]


def self_grades(bank: Bank) -> list[SelfGrade]:
    """Lowest first, so the rubrics most in need of work head the list."""
    pairs: list[tuple[Rubric, str]] = []
    items: list[tuple[Gradable, int]] = [(q, 0) for q in bank.technical.values()]
    items += [(s, i) for s in bank.design.values() for i in range(len(s.stages))]
    for item, stage in items:
        main = rubric_for(item, stage)
        pairs.append((main, main.reference))
        for n in range(len(follow_ups_of(item, stage))):
            rubric = follow_up_rubric(item, n, stage)
            pairs.append((rubric, rubric.reference))
    grader = ClaimGrader()
    out = []
    for rubric, reference in pairs:
        verdict = grader.grade_sync(rubric, reference)
        missed = tuple(p.point for p in verdict.points if p.status != "confirmed")
        out.append(SelfGrade(rubric.question_id, verdict.score, missed, tuple(verdict.flags)))
    return sorted(out, key=lambda g: (g.score, g.item_id))
