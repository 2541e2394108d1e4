"""What answering a question asks storage to write: the answer, its rating, a dispute, its review card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.answering.results import AnswerResult
from bot.answering.srs import CardState


@dataclass(frozen=True)
class AnswerRecord:
    round_id: str
    result: AnswerResult
    answer_text: str
    verdict: dict[str, Any]
    at: datetime
    follow_up: bool = False  # the answer to a follow-up joins the original answer's row


@dataclass(frozen=True)
class RatingRecord:
    round_id: str
    question_id: str
    rating: str  # again, hard, good, easy
    at: datetime


@dataclass(frozen=True)
class DisputeRecord:
    """ "I did say this" on one point of a grade (or on the score as a whole when `point` is empty).
    The score is not changed; rubric authors read these through `mock-interviewer disputes export`."""

    round_id: str
    question_id: str
    at: datetime
    point: str = ""
    status: str = ""  # the grader's verdict on that point: missed, mentioned, contradicted


@dataclass(frozen=True)
class DisputeReasonRecord:
    """The candidate's optional reason for their latest dispute on this question."""

    round_id: str
    question_id: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class CardRecord:
    user_id: int
    card: CardState
