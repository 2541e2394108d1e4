"""The scorecard's hire signal: only from enough evidence, never praising a wrong answer, with reasons."""

from __future__ import annotations

from bot.answering.results import AnswerResult, PointResult
from bot.rounds import scorecard


def answer(qid: str, section: str, score: float, *, contradicted: bool = False, skipped: bool = False) -> AnswerResult:
    status = "contradicted" if contradicted else "confirmed"
    return AnswerResult(
        question_id=qid,
        kind="design" if section == "9.3" else "behavioral" if section.startswith("2.") else "technical",
        section=section,
        topic="t",
        score=score,
        raw_score=score,
        skipped=skipped,
        points=[PointResult(point=f"{qid} point", status=status, weight=2)],
    )


def test_no_signal_from_two_wrong_hard_answers() -> None:
    card = scorecard.build([answer("a", "7.1", 3.5), answer("b", "8.1", 3.0)], track="technical")
    assert card["signal"] is None and "at least 3 graded answers" in card["withheld"]
    assert "not given, too little evidence" in scorecard.render(card)


def test_one_behavioral_answer_then_stop_gives_no_signal() -> None:
    card = scorecard.build([answer("beh", "2.3.1.3", 4.0)], track="behavioral")
    assert card["signal"] is None


def test_skipped_answers_are_not_evidence() -> None:
    results = [answer("a", "7.1", 3.5), answer("b", "8.1", 3.5), answer("c", "8.3", 0.0, skipped=True)]
    assert scorecard.build(results, track="technical")["signal"] is None
    results[2] = answer("c", "8.3", 3.5)
    card = scorecard.build(results, track="technical")
    assert card["signal"] == "strong hire" and card["withheld"] == ""


def test_reasons_cite_the_answers_behind_them() -> None:
    card = scorecard.build([answer("a", "7.1", 3.5), answer("b", "5.2.1", 1.0), answer("c", "8.1", 3.0)])
    assert any("a 3.5" in r and "c 3.0" in r for r in card["reasons"])
    assert any(r.startswith("weakest area: math and statistics") and "b 1.0" in r for r in card["reasons"])


def test_a_contradicted_answer_is_never_a_strength() -> None:
    results = [answer("a", "7.1", 3.5, contradicted=True), answer("b", "8.1", 3.5), answer("c", "8.1", 3.5)]
    card = scorecard.build(results)
    assert "7.1" not in card["strengths"] and "8.1" in card["strengths"]
    assert any("a wrong claim in a" in r for r in card["reasons"])


def test_a_loop_needs_every_part() -> None:
    parts = {"p1": "Phone screen", "p2": "Phone screen", "d": "System design", "(not reached 3)": "Behavioral"}
    results = [answer("p1", "7.1", 3.8), answer("p2", "8.1", 3.8), answer("d", "9.3", 3.8)]
    card = scorecard.build(results, track="loop", part_of=parts)
    assert card["signal"] is None and "Behavioral" in card["withheld"]
    parts = {**{k: v for k, v in parts.items() if not k.startswith("(")}, "b": "Behavioral"}
    card = scorecard.build([*results, answer("b", "2.3.1.4", 3.8)], track="loop", part_of=parts)
    assert card["signal"] == "strong hire"


def test_a_senior_loop_expects_design_depth() -> None:
    parts = {"p1": "Phone screen", "d": "System design", "b": "Behavioral"}
    results = [answer("p1", "7.1", 4.0), answer("d", "9.3", 1.5), answer("b", "2.3.1.4", 4.0)]
    junior = scorecard.build(results, track="loop", part_of=parts)
    senior = scorecard.build(results, track="loop", part_of=parts, senior=True)
    assert junior["signal"] == "hire"
    assert senior["signal"] == "lean no hire" and any("design depth" in r for r in senior["reasons"])


def test_skills_to_work_on_name_questions_and_sections() -> None:
    card = scorecard.build([answer("a", "7.1", 1.0), answer("b", "7.1", 2.0), answer("c", "8.1", 3.9)])
    first = card["review"][0]
    assert first["section"] == "7.1" and first["questions"] == ["a", "b"]
    assert "Book section 7.1" in scorecard.render(card) and "questions: a, b" in scorecard.render(card)
