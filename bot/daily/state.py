"""Today's daily question while it waits for an answer; plain data saved after every event."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from bot.answering.results import PointResult
from bot.core.model import StateModel


class DailyState(StateModel):
    """Today's daily question while it waits for (or is being given) an answer."""

    question_id: str
    round_id: str
    sent_at: datetime
    answer: list[str] = Field(default_factory=list)
    phase: Literal["answer", "rate"] = "answer"
    hints_used: int = 0
    score: float | None = None
    graded: list[PointResult] = Field(default_factory=list)  # the last grade's points, for a dispute
    disputing: bool = False
