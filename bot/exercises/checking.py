"""An exercise answer, run and graded: the code decides most of the score, its explanation the rest.

Shared by every place a question is answered (rounds, the daily question) and by `mock-interviewer
grade`, so an exercise is scored the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.exercises.answer import split_answer
from bot.exercises.python_check import check_python
from bot.exercises.result import ExerciseResult
from bot.exercises.sandbox import Sandbox
from bot.exercises.scoring import exercise_score
from bot.exercises.sql_check import check_sql
from bot.grading.bank_rubrics import rubric_for
from bot.grading.verdict import Grader, Rubric, Verdict, all_missed
from questions.schema import TechnicalQuestion


@dataclass(frozen=True)
class CheckedAnswer:
    run: ExerciseResult
    explanation: Verdict  # the rubric grade of the prose around the code (of everything, when not run)
    score: float
    prose: str  # what the rubric graded

    def feedback(self) -> str:
        """What ran and how in a fenced block, the differing rows in their own (monospace on every
        platform), then the rubric's feedback."""
        if not self.run.executed:
            return "\n".join(p for p in (self.run.feedback(), self.explanation.feedback) if p)
        ran = f"Your code was run.\n```\n{self.run.feedback(with_diff=False)}\n```"
        return "\n".join(p for p in (ran, self.run.diff, self.explanation.feedback) if p)


def runs_code(item: object) -> bool:
    return isinstance(item, TechnicalQuestion) and (item.sql is not None or item.tests is not None)


class ExerciseChecker:
    """Runs SQL in a worker thread and Python in the sandbox, so the event loop keeps serving others."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def check(self, item: TechnicalQuestion, answer: str, grader: Grader) -> CheckedAnswer:
        if item.sql is not None:
            run, language = await check_sql(item, answer), "sql"
        else:
            run, language = await check_python(item, answer, self.sandbox), "python"
        prose = split_answer(answer, language).explanation if run.executed else answer
        rubric = rubric_for(item)
        explanation = await grader.grade(rubric, prose) if prose.strip() or not run.executed else _unexplained(rubric)
        return CheckedAnswer(run, explanation, exercise_score(run, explanation.score), prose)


def _unexplained(rubric: Rubric) -> Verdict:
    """Code with no words around it was run; it is not an "I don't know", so it is not answered as one."""
    points = all_missed(rubric.key_points)
    lines = [
        "Your code came with no explanation. In an interview, say in a sentence or two why it works; "
        "a strong explanation covers:",
        *(f"• {kp.point}" for kp in rubric.key_points),
    ]
    return Verdict(0.0, points, "\n".join(lines), ["no_explanation"])
