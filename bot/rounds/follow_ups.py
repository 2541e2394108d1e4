"""Which follow-up to ask after an answer, and why: the one aimed at the most important point the
answer missed or got wrong, or a deeper one when everything was covered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.answering.results import PointResult
from questions.schema import FollowUp

_URGENCY = {"contradicted": 0, "missed": 1, "mentioned": 2, "confirmed": 3}
# Why the interviewer asks, by what the answer did with the point; the point itself is not named,
# since naming it would give the follow-up's answer away.
_WHY = {
    "contradicted": "Something in your answer doesn't look right to me (I'll show you after this), so let me probe it.",
    "missed": "Your answer left out one of the main points; this follow-up is about it.",
    "mentioned": "You touched on a main point without quite stating it; let's pin it down.",
}
DEEPER = "You covered the main points, so let's go one level deeper."


@dataclass(frozen=True)
class Probe:
    index: int  # in the question's follow-ups (or the design stage's probes)
    ask: str
    why: str


def choose(follow_ups: Sequence[FollowUp], points: Sequence[PointResult], *, only_gaps: bool = False) -> Probe | None:
    """`only_gaps`: ask nothing when every point was covered (a design stage moves on)."""
    if not follow_ups:
        return None
    for i in sorted(range(len(points)), key=lambda i: (_URGENCY[points[i].status], -points[i].weight, i)):
        status = points[i].status
        if status == "confirmed":
            break
        for n, f in enumerate(follow_ups):
            if i in f.targets:
                return Probe(n, f.ask, _WHY[status])
    covered = all(p.status == "confirmed" for p in points)
    if covered and only_gaps:
        return None
    deeper = [n for n, f in enumerate(follow_ups) if not f.targets]
    if covered and deeper:
        return Probe(deeper[0], follow_ups[deeper[0]].ask, DEEPER)
    return Probe(0, follow_ups[0].ask, DEEPER if covered else "")
