"""What every grader takes and returns, so graders are interchangeable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from questions.schema import KeyPoint

# confirmed: a quote states the claim; contradicted: a quote states a wrong version of it;
# mentioned: its terms appear but no clause could be read as the claim; missed: nothing.
Status = Literal["confirmed", "contradicted", "mentioned", "missed"]
CREDIT: dict[str, float] = {"confirmed": 1.0, "mentioned": 0.25, "missed": 0.0, "contradicted": -0.5}


@dataclass(frozen=True)
class Rubric:
    """The gradable view of a bank item (a technical question, a behavioral one, a design stage, a follow-up)."""

    question_id: str
    kind: Literal["technical", "behavioral", "design", "follow_up"]
    prompt: str
    key_points: tuple[KeyPoint, ...]
    reference: str


@dataclass(frozen=True)
class PointVerdict:
    point: str
    status: Status
    evidence: str  # the candidate's words behind a confirmed or contradicted point
    weight: int
    correction: str = ""  # for a contradicted point: what is true instead


@dataclass
class Verdict:
    score: float  # 0-4
    points: list[PointVerdict]
    feedback: str
    flags: list[str] = field(default_factory=list)
    grader: str = "claims"

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "grader": self.grader,
            "flags": self.flags,
            "key_points": [
                {
                    "point": p.point,
                    "status": p.status,
                    "evidence": p.evidence,
                    "weight": p.weight,
                    **({"correction": p.correction} if p.correction else {}),
                }
                for p in self.points
            ],
            "feedback": self.feedback,
        }


def all_missed(key_points: tuple[KeyPoint, ...]) -> list[PointVerdict]:
    """Every point missed: an answer with nothing to grade (an "I don't know", code without words)."""
    return [PointVerdict(kp.point, "missed", "", kp.weight) for kp in key_points]


def score_of(points: list[PointVerdict]) -> float:
    """0-4 from the point verdicts. A wrong claim costs more than a missing one, a contradicted point
    that matters (weight 2 or more) keeps the answer below 3, and an answer caught in a wrong claim
    gets no benefit of the doubt: the points it only mentions earn nothing."""
    total = sum(p.weight for p in points)
    if not total:
        return 0.0
    caught = any(p.status == "contradicted" for p in points)
    earned = sum(p.weight * (0.0 if caught and p.status == "mentioned" else CREDIT[p.status]) for p in points)
    score = 4.0 * max(0.0, earned) / total
    if any(p.status == "contradicted" and p.weight >= 2 for p in points):
        score = min(score, 2.5)
    return round(score, 1)


def feedback_lines(points: list[PointVerdict]) -> list[str]:
    """One line per point, each tick backed by the candidate's own words."""
    lines = []
    for p in points:
        if p.status == "confirmed":
            lines.append(f"✓ {p.point} — you said: “{p.evidence}”")
    for p in points:
        if p.status == "contradicted":
            lines.append(f"✗ You said: “{p.evidence}”. {p.correction}")
    for p in points:
        if p.status == "mentioned":
            lines.append(f"? I couldn't confirm that you said: {p.point}. Compare with the reference.")
    for p in points:
        if p.status == "missed":
            lines.append(f"· Not covered: {p.point}")
    return lines


class Grader(Protocol):
    async def grade(self, rubric: Rubric, answer: str) -> Verdict: ...
