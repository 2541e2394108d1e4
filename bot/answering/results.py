"""A graded answer, kept in the round's state and stored with the answer."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from bot.core.model import StateModel
from questions.schema import BehavioralQuestion, DesignScenario, QuizQuestion, TechnicalQuestion

BankItem = TechnicalQuestion | BehavioralQuestion | DesignScenario | QuizQuestion
ItemKind = Literal["technical", "behavioral", "design", "quiz"]


_OLD_STATUS = {"covered": "confirmed", "partly": "mentioned"}  # names used before claim grading


class PointResult(StateModel):
    point: str
    status: Literal["confirmed", "contradicted", "mentioned", "missed"]
    evidence: str = ""
    weight: int = 1
    correction: str = ""

    @field_validator("status", mode="before")
    @classmethod
    def _renamed(cls, value: str) -> str:
        return _OLD_STATUS.get(value, value)


class AnswerResult(StateModel):
    """One graded answer (or one design stage, or one quiz item) inside a round."""

    question_id: str
    kind: ItemKind
    section: str
    topic: str
    stage: str | None = None
    score: float = 0.0  # 0-4 after the hint penalty
    raw_score: float = 0.0
    hints_used: int = 0
    skipped: bool = False
    points: list[PointResult] = Field(default_factory=list)
    seconds: int = 0
    words: int = 0
    notes: list[str] = Field(default_factory=list)


def kind_of(item: BankItem) -> ItemKind:
    if isinstance(item, QuizQuestion):
        return "quiz"
    if isinstance(item, DesignScenario):
        return "design"
    return "behavioral" if isinstance(item, BehavioralQuestion) else "technical"


def topic_of(item: BankItem) -> str:
    if isinstance(item, DesignScenario):
        return item.title
    return str(getattr(item, "topic", getattr(item, "group", "")))
