"""A channel quiz's runs and answers, as stored, and the views read back for results and leaderboards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class QuizRunRecord:
    run_id: str
    platform: str
    chat_id: str
    question_ids: tuple[str, ...]
    opened_at: datetime
    closes_at: datetime
    status: str  # open | closed


@dataclass(frozen=True)
class QuizAnswerRecord:
    run_id: str
    index: int
    question_id: str
    option: int
    correct: bool
    at: datetime


@dataclass
class QuizRunView:
    run_id: str
    question_ids: tuple[str, ...]
    status: str
    # (user id, display name, question index, correct) for every member's answer
    answers: list[tuple[int, str, int, bool]] = field(default_factory=list)
    opened_at: datetime | None = None
    open_seconds: float = 0.0  # how long each question stays open once it is posted
    sent_at: dict[int, datetime] = field(default_factory=dict)  # question index -> when its poll went out


@dataclass
class Leaderboard:
    week: list[tuple[str, int, int]] = field(default_factory=list)  # (name, correct, answered)
    all_time: list[tuple[str, int, int]] = field(default_factory=list)
