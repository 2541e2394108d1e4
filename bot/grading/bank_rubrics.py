"""Gradable views of bank items, so graders never need to know the bank's schema."""

from __future__ import annotations

from bot.grading.verdict import Rubric
from questions.schema import BehavioralQuestion, DesignScenario, FollowUp, TechnicalQuestion

Gradable = TechnicalQuestion | BehavioralQuestion | DesignScenario


def rubric_for(item: Gradable, stage: int = 0) -> Rubric:
    if isinstance(item, DesignScenario):
        st = item.stages[stage]
        return Rubric(
            f"{item.id}#{st.stage}", "design", f"{item.prompt}\n{st.prompt}", tuple(st.key_points), st.reference
        )
    if isinstance(item, BehavioralQuestion):
        return Rubric(item.id, "behavioral", item.prompt, tuple(item.key_points), item.structure)
    return Rubric(item.id, "technical", item.prompt, tuple(item.key_points), item.reference_answer)


def follow_ups_of(item: Gradable, stage: int = 0) -> list[FollowUp]:
    """The follow-up questions of a question, or the probes of a design stage."""
    if isinstance(item, DesignScenario):
        return list(item.stages[stage].probes)
    return list(item.follow_ups)


def follow_up_rubric(item: Gradable, index: int, stage: int = 0) -> Rubric:
    """A follow-up's own rubric, named after the question it follows."""
    follow_up = follow_ups_of(item, stage)[index]
    base = rubric_for(item, stage)
    return Rubric(
        f"{base.question_id}/f{index}", "follow_up", follow_up.ask, tuple(follow_up.key_points), follow_up.reference
    )
