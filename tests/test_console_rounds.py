"""Every round type end to end in the terminal: real `mock-interviewer chat` processes on the shipped bank."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.console_driver import ConsoleProcess

STAR = (
    "In my last job our churn model was stale, so my task was to rebuild the pipeline. I wrote the feature "
    "jobs and the tests myself, and as a result the retraining time fell from two days to three hours."
)
TECH = "I would check the data first, because a leak or a split problem explains most surprises, then regularize."
STAGE = "I would clarify the goal, the metric and the latency budget, then build a simple baseline and monitor drift."


def answer(proc: ConsoleProcess, text: str) -> str:
    """Answer the open question and move past follow-up and rating; returns what came after."""
    proc.send(text)
    out = proc.send("/done")
    if "Follow-up on " in out:  # a follow-up question, or a probe after a design stage
        out = proc.send("/skip")
    if "How well did you know this?" in out:
        out = proc.send("3")  # [3] Good
    return out


def press(proc: ConsoleProcess, out: str, label: str) -> str:
    """Press a button by label: the console draws them as "[n] Label"."""
    found = re.search(rf"\[(\d+)\] {re.escape(label)}", out)
    assert found, f"no button {label!r} in {out[-300:]!r}"
    return proc.send(found.group(1))


@pytest.mark.parametrize(
    ("track", "reply"),
    [("technical", TECH), ("behavioral", STAR), ("mixed", STAR + " " + TECH)],
)
def test_question_rounds_run_to_a_scorecard(tmp_path: Path, track: str, reply: str) -> None:
    proc = ConsoleProcess(tmp_path, track, "medium", "3")
    out = proc.read_turn()
    assert "Question 1/3" in out
    for _ in range(3):
        out = answer(proc, reply)
    assert "Scorecard" in out and "By topic" in out
    if track == "behavioral":
        assert "Structure:" in proc.transcript  # the STAR analyser spoke
    code, _, err = proc.close()
    assert code == 0 and "Traceback" not in err


def test_design_round_with_a_skipped_stage(tmp_path: Path) -> None:
    proc = ConsoleProcess(tmp_path, "design", "medium")
    out = proc.read_turn()
    assert "Stage 1/4: Project set-up and requirements" in out
    out = answer(proc, STAGE)
    assert "Stage 2/4: Data pipeline" in out
    out = proc.send("/skip")
    assert "red flag" in out and "Follow-up on stage 2/4" in out  # a skipped stage is probed
    out = proc.send("/skip")
    assert "Stage 3/4: Modeling" in out
    out = answer(proc, STAGE)
    assert "Stage 4/4: Serving and monitoring" in out
    out = answer(proc, STAGE)
    assert "Trade-offs a strong candidate raises" in proc.transcript and "Scorecard" in out
    assert proc.close()[0] == 0


def test_quiz_drill_scores_every_answer(tmp_path: Path) -> None:
    proc = ConsoleProcess(tmp_path, "quiz", "easy", "5")
    out = proc.read_turn()
    for _ in range(5):
        assert "[1] A" in out
        out = proc.send("1")
        assert "Correct!" in out or "Not quite" in out
    assert "Quiz drill complete" in out and re.search(r"\d/5 correct", out)
    assert proc.close()[0] == 0


def test_full_loop_paused_in_one_process_and_resumed_in_another(tmp_path: Path) -> None:
    first = ConsoleProcess(tmp_path, "loop", "mle-s", user="lee")
    out = first.read_turn()
    assert "Phone screen" in out and "System design" in out  # the introduction states the plan
    out = first.send("/skip")
    out = first.send("/skip")
    assert "Part 2 of 4: Technical deep dive" in out
    out = first.send("/pause")
    assert "Paused at question 3/" in out
    assert first.close()[0] == 0

    second = ConsoleProcess(tmp_path, user="lee")  # a new process: the round comes from the database
    out = second.read_turn()
    assert "paused" in out
    out = press(second, out, "Resume")
    assert "Question 3/" in out
    seen_design = False
    for _ in range(30):
        if "Combined scorecard" in out:
            break
        if "Stage 1/4" in out:
            seen_design = True
        out = second.send("/skip")
        if "How well did you know this?" in out:
            out = second.send("/skip")
    assert seen_design and "Combined scorecard" in out
    assert "Questions to ask your interviewers" in second.transcript
    assert second.close()[0] == 0
