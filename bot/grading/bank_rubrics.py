"""Gradable views of bank items, so graders never need to know the bank's schema."""

from __future__ import annotations

from bot.grading.verdict import Rubric
from questions.schema import BehavioralQuestion, DesignScenario, TechnicalQuestion


def rubric_for(item: TechnicalQuestion | BehavioralQuestion | DesignScenario, stage: int = 0) -> Rubric:
    if isinstance(item, DesignScenario):
        st = item.stages[stage]
        return Rubric(
            f"{item.id}#{st.stage}",
            "design",
            f"{item.prompt}\n{st.prompt}",
            tuple(st.key_points),
            st.reference,
            tuple(st.probes),
        )
    if isinstance(item, BehavioralQuestion):
        return Rubric(
            item.id, "behavioral", item.prompt, tuple(item.key_points), item.structure, tuple(item.follow_ups)
        )
    return Rubric(
        item.id, "technical", item.prompt, tuple(item.key_points), item.reference_answer, tuple(item.follow_ups)
    )
