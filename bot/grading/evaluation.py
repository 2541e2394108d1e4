"""How well a grader separates labelled answers: the figures `bench.grading` and `grade --eval` print.

A labelled file holds `answers: [{question_id, label, answer, ...}]` with labels strong, terse,
partial, fluent_wrong, off_topic (older files also use wrong). Optionally `points: [{question_id,
answer_index, point, verdict}]` labels single key-point verdicts (covered / contradicted / missed)
for the answers, by their index in `answers`, to measure how often a shown tick is right.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.grading.verdict import Verdict

RANK = {"strong": 2, "terse": 2, "partial": 1, "fluent_wrong": 0, "wrong": 0, "off_topic": 0}


@dataclass
class Figures:
    answers: int = 0
    questions: int = 0
    ordering: float = 0.0  # pairwise: higher-ranked label scores higher (ties count half)
    means: dict[str, float] = field(default_factory=dict)
    wrong_below_partial: float | None = None  # share of questions where fluent_wrong < partial
    terse_ok: float | None = None  # share of questions where terse >= 2.5
    pasted: float | None = None  # mean score of the question pasted back as the answer
    tick_precision: float | None = None
    ticks: int = 0
    contradiction_recall: float | None = None
    stale_labels: int = 0  # point labels whose point text is no longer in the rubric (edited since labelling)

    def lines(self) -> list[str]:
        out = [
            f"  answers / questions          : {self.answers} / {self.questions}",
            f"  ordering accuracy            : {self.ordering:.3f} (target >= 0.90)",
        ]
        for label in ("strong", "terse", "partial", "fluent_wrong", "wrong", "off_topic"):
            if label in self.means:
                out.append(f"  mean score {label:<18}: {self.means[label]:.2f}")
        if self.wrong_below_partial is not None:
            out.append(f"  fluent_wrong < partial       : {self.wrong_below_partial:.0%} of questions (target >= 85%)")
        if self.terse_ok is not None:
            out.append(f"  terse strong >= 2.5          : {self.terse_ok:.0%} of questions (target >= 85%)")
        if self.pasted is not None:
            out.append(f"  question pasted back         : {self.pasted:.2f} (target <= 0.5)")
        if self.tick_precision is not None:
            out.append(
                f"  tick precision               : {self.tick_precision:.3f} on {self.ticks} ticks (target >= 0.95)"
            )
        if self.contradiction_recall is not None:
            out.append(f"  contradictions found         : {self.contradiction_recall:.0%} of labelled ones")
        if self.stale_labels:
            out.append(f"  STALE point labels (skipped) : {self.stale_labels} (their point text changed; relabel them)")
        return out


Grade = Callable[[str, str], Awaitable[Verdict]]  # (question id, answer) -> verdict


async def evaluate(
    answers: Sequence[dict[str, Any]],
    grade: Grade,
    prompts: dict[str, str],
    points: Sequence[dict[str, Any]] = (),
) -> tuple[Figures, list[Verdict]]:
    verdicts = [await grade(a["question_id"], a["answer"]) for a in answers]
    by_q: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    by_label: dict[str, list[float]] = defaultdict(list)
    for a, v in zip(answers, verdicts, strict=True):
        by_q[a["question_id"]][a["label"]].append(v.score)
        by_label[a["label"]].append(v.score)
    wins = pairs = 0.0
    for labels in by_q.values():
        flat = [(RANK[label], s) for label, scores in labels.items() for s in scores]
        for ra, sa in flat:
            for rb, sb in flat:
                if ra > rb:
                    pairs += 1
                    wins += 1.0 if sa > sb else 0.5 if sa == sb else 0.0
    figures = Figures(len(answers), len(by_q), wins / pairs if pairs else 0.0)
    figures.means = {label: statistics.fmean(v) for label, v in by_label.items()}
    both = [q for q in by_q.values() if q.get("fluent_wrong") and q.get("partial")]
    if both:
        figures.wrong_below_partial = sum(max(q["fluent_wrong"]) < min(q["partial"]) for q in both) / len(both)
    terse = [q["terse"] for q in by_q.values() if q.get("terse")]
    if terse:
        figures.terse_ok = sum(min(t) >= 2.5 for t in terse) / len(terse)
    if prompts:
        pasted = [(await grade(q, prompts[q])).score for q in by_q if q in prompts]
        figures.pasted = statistics.fmean(pasted) if pasted else None
    if points:
        figures.tick_precision, figures.ticks, figures.contradiction_recall, figures.stale_labels = _ticks(
            points, verdicts
        )
    return figures, verdicts


def _ticks(points: Sequence[dict[str, Any]], verdicts: list[Verdict]) -> tuple[float | None, int, float | None, int]:
    """Of the points the grader confirmed, how many a person labelled covered; of the points a person
    labelled contradicted, how many the grader marked contradicted; and how many labels match no point."""
    ticks = right = contra = found = stale = 0
    for label in points:
        verdict = verdicts[label["answer_index"]]
        shown = next((p for p in verdict.points if p.point == label["point"]), None)
        if shown is None:
            stale += 1
            continue
        if shown.status == "confirmed":
            ticks += 1
            right += label["verdict"] == "covered"
        if label["verdict"] == "contradicted":
            contra += 1
            found += shown.status == "contradicted"
    return (right / ticks if ticks else None), ticks, (found / contra if contra else None), stale
