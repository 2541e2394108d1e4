"""An exercise answer's score out of 4: running the code decides most of it, the explanation the rest.

All cases passing earns 3 of the 4 points from execution; each failing hidden case costs a share
of 1.5 of them (a shortcut that only works on the visible data keeps 1.5). Failing a visible case
means the answer does not work: execution earns at most 1 and the total is capped at 1.5. The
explanation's rubric grade (0-4) adds up to 1 point. When the code could not be run (no sandbox),
the rubric grade of the whole answer is the score, as for any other question.
"""

from __future__ import annotations

from bot.exercises.result import ExerciseResult

ALL_PASS = 3.0
HIDDEN_SHARE = 1.5
VISIBLE_FAIL_CAP = 1.5


def execution_points(result: ExerciseResult) -> float:
    visible = [c for c in result.cases if not c.hidden]
    hidden = [c for c in result.cases if c.hidden]
    visible_passed = sum(c.passed for c in visible)
    if not visible or visible_passed < len(visible):
        return visible_passed / len(visible) if visible else 0.0
    failed_hidden = sum(not c.passed for c in hidden)
    return ALL_PASS - HIDDEN_SHARE * failed_hidden / max(len(hidden), 1)


def exercise_score(result: ExerciseResult, explanation_score: float) -> float:
    """`explanation_score` is the rubric grade (0-4) of the explanation, or of the whole answer when not run."""
    if not result.executed:
        return explanation_score
    points = execution_points(result) + explanation_score / 4
    if result.failed(hidden=False):
        points = min(points, VISIBLE_FAIL_CAP)
    return round(min(points, 4.0), 2)
