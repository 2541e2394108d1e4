"""Dialogue state: plain data, saved as JSON after every event so a restart loses nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Track = Literal["technical", "behavioral", "mixed", "design", "quiz", "loop"]
Difficulty = Literal["easy", "medium", "hard", "match"]
ItemKind = Literal["technical", "behavioral", "design", "quiz"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


_OLD_STATUS = {"covered": "confirmed", "partly": "mentioned"}  # names used before claim grading


class PointResult(_Model):
    point: str
    status: Literal["confirmed", "contradicted", "mentioned", "missed"]
    evidence: str = ""
    weight: int = 1
    correction: str = ""

    @field_validator("status", mode="before")
    @classmethod
    def _renamed(cls, value: str) -> str:
        return _OLD_STATUS.get(value, value)


class AnswerResult(_Model):
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


class Slot(_Model):
    """One planned question of a round; a loop's parts are runs of slots with the same label."""

    kind: ItemKind
    label: str = ""
    difficulty: str = "medium"
    sections: list[str] = Field(default_factory=list)


class RoundState(_Model):
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

    @property
    def length(self) -> int:
        return len(self.plan)

    @property
    def current_id(self) -> str | None:
        return self.question_ids[-1] if self.question_ids else None

    @property
    def current_slot(self) -> Slot:
        return self.plan[min(self.slot, len(self.plan) - 1)]


class SetupState(_Model):
    step: Literal["track", "difficulty", "length", "role"] = "track"
    track: Track | None = None
    difficulty: Difficulty | None = None
    role: str | None = None
    length: int | None = None


class DailyState(_Model):
    """Today's daily question while it waits for (or is being given) an answer."""

    question_id: str
    round_id: str
    sent_at: datetime
    answer: list[str] = Field(default_factory=list)
    phase: Literal["answer", "rate"] = "answer"
    hints_used: int = 0
    score: float | None = None


class DialogueState(_Model):
    mode: Literal["idle", "setup", "round"] = "idle"
    setup: SetupState | None = None
    round: RoundState | None = None
    paused: RoundState | None = None
    # Bumped whenever buttons are shown; choice ids carry it so an old button is recognisably stale.
    seq: int = 0
    daily: DailyState | None = None
    awaiting: Literal["daily_zone", "daily_time"] | None = None  # free-text setting the bot asked for

    def next_seq(self) -> int:
        self.seq = (self.seq + 1) % 10_000
        return self.seq
