"""A round's state: its plan, where it is, and the answers so far; plain data saved after every event."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from bot.answering.results import AnswerResult, ItemKind, PointResult
from bot.core.model import StateModel

Track = Literal["technical", "behavioral", "mixed", "design", "quiz", "loop"]


Difficulty = Literal["easy", "medium", "hard", "match"]
Exercise = Literal["sql", "python"]  # a question whose answer is run: an SQL query or a Python function


class Slot(StateModel):
    """One planned question of a round; a loop's parts are runs of slots with the same label."""

    kind: ItemKind
    label: str = ""
    difficulty: str = "medium"
    sections: list[str] = Field(default_factory=list)
    exercise: Exercise | None = None  # only exercises of this language, never relaxed


class RoundState(StateModel):
    round_id: str
    track: Track
    difficulty: Difficulty
    preset: str | None = None
    plan: list[Slot]
    started: datetime
    slot: int = 0
    question_ids: list[str] = Field(default_factory=list)  # one per started slot; the last is current
    level: str = "medium"  # "match my level": where the next question is drawn from
    stage: int = 0  # design scenarios: index of the current stage
    results: list[AnswerResult] = Field(default_factory=list)
    phase: Literal["answer", "follow_up", "rate"] = "answer"
    answer: list[str] = Field(default_factory=list)
    hints_used: int = 0
    question_started: datetime
    follow_up: str | None = None
    follow_up_index: int | None = None  # which of the question's follow-ups (or the stage's probes) is open
    graded: list[PointResult] = Field(default_factory=list)  # the last grade's points, for a dispute
    disputing: bool = False

    @property
    def length(self) -> int:
        return len(self.plan)

    @property
    def current_id(self) -> str | None:
        return self.question_ids[-1] if self.question_ids else None

    @property
    def current_slot(self) -> Slot:
        return self.plan[min(self.slot, len(self.plan) - 1)]


class SetupState(StateModel):
    step: Literal["track", "difficulty", "length", "role"] = "track"
    track: Track | None = None
    difficulty: Difficulty | None = None
    role: str | None = None
    length: int | None = None
    exercises: list[Exercise] = Field(default_factory=list)  # a technical round of these, in turn
