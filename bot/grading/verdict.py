"""What every grader takes and returns, so graders are interchangeable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from questions.schema import KeyPoint

Status = Literal["covered", "partly", "missed"]


@dataclass(frozen=True)
class Rubric:
    """The gradable view of a bank item (a technical question, a behavioral one, a design stage)."""

    question_id: str
    kind: Literal["technical", "behavioral", "design"]
    prompt: str
    key_points: tuple[KeyPoint, ...]
    reference: str
    follow_ups: tuple[str, ...] = ()


@dataclass(frozen=True)
class PointVerdict:
    point: str
    status: Status
    evidence: str
    weight: int


@dataclass
class Verdict:
    score: float  # 0-4
    points: list[PointVerdict]
    feedback: str
    follow_up: str | None = None
    flags: list[str] = field(default_factory=list)
    grader: str = "rubric"

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "grader": self.grader,
            "flags": self.flags,
            "key_points": [
                {"point": p.point, "status": p.status, "evidence": p.evidence, "weight": p.weight} for p in self.points
            ],
            "feedback": self.feedback,
            "follow_up": self.follow_up,
        }


class Grader(Protocol):
    async def grade(self, rubric: Rubric, answer: str) -> Verdict: ...
