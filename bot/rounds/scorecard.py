"""Turn per-answer results into the end-of-round scorecard a candidate can act on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from bot.answering.results import AnswerResult
from questions.sections import SECTIONS

COMPETENCIES = ("ML fundamentals", "math and statistics", "coding and CS", "system design", "communication")
SIGNALS = ((1.0, "strong no hire"), (1.75, "no hire"), (2.25, "lean no hire"), (2.75, "lean hire"), (3.4, "hire"))


def competency_of(section: str) -> str:
    if section.startswith("5."):
        return "math and statistics"
    if section.startswith("6."):
        return "coding and CS"
    if section in ("9.2", "9.3"):
        return "system design"
    if section.startswith("2."):
        return "communication"
    return "ML fundamentals"


def signal_for(mean: float) -> str:
    for limit, name in SIGNALS:
        if mean < limit:
            return name
    return "strong hire"


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def build(results: Sequence[AnswerResult]) -> dict[str, Any]:
    """A plain-data scorecard: stored with the round and rendered by `render`."""
    graded = [r for r in results if r.kind != "quiz"]
    by_section: dict[str, list[float]] = defaultdict(list)
    by_comp: dict[str, list[float]] = defaultdict(list)
    missed: dict[str, list[str]] = defaultdict(list)
    for r in results:
        by_section[r.section].append(r.score)
        by_comp[competency_of(r.section)].append(r.score)
        for p in r.points:
            if p.status != "confirmed" and p.point not in missed[r.section]:
                missed[r.section].append(p.point)
    topics: dict[str, dict[str, Any]] = {
        s: {"title": SECTIONS.get(s, s), "score": round(_mean(v), 2), "answers": len(v)}
        for s, v in sorted(by_section.items())
    }
    competencies = {c: round(_mean(by_comp[c]), 2) for c in COMPETENCIES if by_comp.get(c)}
    overall = round(_mean([r.score for r in results]), 2)
    strengths = [s for s, t in topics.items() if t["score"] >= 3.0]
    gaps = [s for s, t in topics.items() if t["score"] < 2.0]
    review = [
        {"section": s, "title": SECTIONS.get(s, s), "score": topics[s]["score"], "points": missed[s][:3]}
        for s in sorted(topics, key=lambda s: (topics[s]["score"], s))
        if topics[s]["score"] < 3.5
    ][:3]
    reasons: list[str] = []
    if competencies:
        best = max(competencies, key=lambda c: competencies[c])
        worst = min(competencies, key=lambda c: competencies[c])
        reasons.append(f"strongest area: {best} ({competencies[best]:.1f}/4)")
        if worst != best:
            reasons.append(f"weakest area: {worst} ({competencies[worst]:.1f}/4)")
    skipped = sum(1 for r in results if r.skipped)
    if skipped:
        reasons.append(f"{skipped} question(s) skipped")
    hints = sum(r.hints_used for r in results)
    if hints:
        reasons.append(f"{hints} hint(s) used")
    return {
        "overall": overall,
        "signal": signal_for(overall) if graded else None,
        "reasons": reasons,
        "competencies": competencies,
        "topics": topics,
        "strengths": strengths,
        "gaps": gaps,
        "review": review,
        "answered": sum(1 for r in results if not r.skipped),
        "questions": len(results),
        "minutes": round(sum(r.seconds for r in results) / 60, 1),
    }


def render(card: dict[str, Any]) -> str:
    """The body of a scorecard; its title travels separately so platforms can draw a card."""
    lines = [f"Overall: {card['overall']:.1f}/4 over {card['questions']} question(s)"]
    if card.get("signal"):
        lines.append(f"Signal: {card['signal']}" + (f" ({'; '.join(card['reasons'])})" if card["reasons"] else ""))
    if card["competencies"]:
        lines.append("")
        lines.append("By competency:")
        lines += [f"  {c}: {s:.1f}/4" for c, s in card["competencies"].items()]
    lines.append("")
    lines.append("By topic:")
    lines += [f"  {s} {t['title']}: {t['score']:.1f}/4 ({t['answers']})" for s, t in card["topics"].items()]
    if card["strengths"]:
        lines.append("Strengths: " + ", ".join(f"{s} {card['topics'][s]['title']}" for s in card["strengths"]))
    if card["gaps"]:
        lines.append("Gaps: " + ", ".join(f"{s} {card['topics'][s]['title']}" for s in card["gaps"]))
    if card["review"]:
        lines.append("")
        lines.append("Review first:")
        for item in card["review"]:
            lines.append(f"  • Book section {item['section']} {item['title']} ({item['score']:.1f}/4)")
            lines += [f"      - {p}" for p in item["points"]]
    return "\n".join(lines)
