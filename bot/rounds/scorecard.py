"""Turn per-answer results into the end-of-round scorecard a candidate can act on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from bot.answering.results import AnswerResult
from bot.core.texts import plural
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


MIN_GRADED = {"technical": 3, "mixed": 3, "design": 3, "behavioral": 2}  # answers before any hire signal
SENIOR_DESIGN_BAR = 2.5  # a senior loop with weaker design than this is at best "lean no hire"


def build(
    results: Sequence[AnswerResult],
    *,
    track: str = "technical",
    part_of: Mapping[str, str] | None = None,
    senior: bool = False,
) -> dict[str, Any]:
    """A plain-data scorecard: stored with the round and rendered by `render`. `part_of` maps each
    question of a loop to its part; `senior` raises the bar (seniors are expected to show design depth)."""
    part_of = part_of or {}
    parts = list(dict.fromkeys(part_of.values()))
    graded = [r for r in results if r.kind != "quiz" and not r.skipped]
    by_section: dict[str, list[AnswerResult]] = defaultdict(list)
    by_comp: dict[str, list[float]] = defaultdict(list)
    missed: dict[str, list[str]] = defaultdict(list)
    for r in results:
        by_section[r.section].append(r)
        by_comp[competency_of(r.section)].append(r.score)
        for p in r.points:
            if p.status != "confirmed" and p.point not in missed[r.section]:
                missed[r.section].append(p.point)
    topics: dict[str, dict[str, Any]] = {
        s: {"title": SECTIONS.get(s, s), "score": round(_mean([r.score for r in v]), 2), "answers": len(v)}
        for s, v in sorted(by_section.items())
    }
    competencies = {c: round(_mean(by_comp[c]), 2) for c in COMPETENCIES if by_comp.get(c)}
    overall = round(_mean([r.score for r in results]), 2)
    wrong = {r.question_id for r in results if any(p.status == "contradicted" for p in r.points)}
    strengths = [
        s for s, t in topics.items() if t["score"] >= 3.0 and not any(r.question_id in wrong for r in by_section[s])
    ]
    gaps = [s for s, t in topics.items() if t["score"] < 2.0]
    review = [
        {
            "section": s,
            "title": SECTIONS.get(s, s),
            "score": topics[s]["score"],
            "points": missed[s][:3],
            "questions": list(dict.fromkeys(r.question_id for r in by_section[s])),
        }
        for s in sorted(topics, key=lambda s: (topics[s]["score"], s))
        if topics[s]["score"] < 3.5
    ][:3]
    reasons: list[str] = []
    if competencies:
        best = max(competencies, key=lambda c: competencies[c])
        worst = min(competencies, key=lambda c: competencies[c])
        reasons.append(f"strongest area: {best} ({competencies[best]:.1f}/4; {_cite(results, best)})")
        if worst != best:
            reasons.append(f"weakest area: {worst} ({competencies[worst]:.1f}/4; {_cite(results, worst)})")
    if wrong:
        reasons.append("a wrong claim in " + ", ".join(sorted(wrong)))
    skipped = sum(1 for r in results if r.skipped)
    if skipped:
        reasons.append(f"{plural(skipped, 'question')} skipped")
    hints = sum(r.hints_used for r in results)
    if hints:
        reasons.append(f"{plural(hints, 'hint')} used")
    withheld = _missing_evidence(graded, track, part_of)
    signal = None if withheld or not graded else signal_for(overall - (0.25 if senior else 0.0))
    design = competencies.get("system design")
    if signal and senior and "System design" in parts and (design is None or design < SENIOR_DESIGN_BAR):
        if signal_rank(signal) > signal_rank("lean no hire"):
            signal = "lean no hire"
        reasons.append(f"a senior loop expects design depth (system design {design or 0:.1f}/4)")
    return {
        "overall": overall,
        "signal": signal,
        "withheld": withheld,
        "reasons": reasons,
        "competencies": competencies,
        "topics": topics,
        "strengths": strengths,
        "gaps": gaps,
        "review": review,
        "answered": len(graded),
        "questions": len(results),
        "minutes": round(sum(r.seconds for r in results) / 60, 1),
    }


def signal_rank(signal: str) -> int:
    return [name for _, name in SIGNALS].index(signal) if signal != "strong hire" else len(SIGNALS)


def _cite(results: Sequence[AnswerResult], competency: str) -> str:
    """The answers behind an area's score, so a reason can be checked."""
    mine = [r for r in results if competency_of(r.section) == competency]
    shown = ", ".join(f"{r.question_id}{f' {r.stage}' if r.stage else ''} {r.score:.1f}" for r in mine[:4])
    return shown + (f" and {len(mine) - 4} more" if len(mine) > 4 else "")


def _missing_evidence(graded: Sequence[AnswerResult], track: str, part_of: Mapping[str, str]) -> str:
    """Why no hire signal can be given yet; empty when there is enough to go on."""
    if track == "quiz":
        return ""
    if track == "loop":
        answered = {part_of.get(r.question_id) for r in graded}
        missing = [p for p in dict.fromkeys(part_of.values()) if p not in answered]
        if missing:
            return "a loop's signal needs every part; not answered: " + ", ".join(missing)
        return ""
    need = MIN_GRADED.get(track, 3)
    if len(graded) < need:
        what = "design stages" if track == "design" else "answers"
        return f"a signal needs at least {need} graded {what}; this round has {len(graded)}"
    return ""


def render(card: dict[str, Any]) -> str:
    """The body of a scorecard; its title travels separately so platforms can draw a card."""
    lines = [f"Overall: {card['overall']:.1f}/4 over {plural(card['questions'], 'answer')}"]
    if card.get("signal"):
        lines.append(f"Signal: {card['signal']}" + (f" ({'; '.join(card['reasons'])})" if card["reasons"] else ""))
    elif card.get("withheld"):
        lines.append(f"Signal: not given, too little evidence ({card['withheld']})")
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
            asked = f"; questions: {', '.join(item['questions'])}" if item.get("questions") else ""
            lines.append(f"  • Book section {item['section']} {item['title']} ({item['score']:.1f}/4{asked})")
            lines += [f"      - {p}" for p in item["points"]]
    return "\n".join(lines)
