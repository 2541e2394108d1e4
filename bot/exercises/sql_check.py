"""Check a SQL answer: run it and the reference query on the visible fixture, then on the hidden one.

Runs in a worker thread (`asyncio.to_thread`), since SQLite is blocking; the event loop keeps
serving other users while a slow query runs into its time limit.
"""

from __future__ import annotations

import asyncio
import time

from bot.exercises.answer import split_answer
from bot.exercises.result import CaseResult, ExerciseResult
from bot.exercises.sql_diff import compare_rows, sample_tables
from bot.exercises.sql_runner import QueryRefused, QueryTimedOut, ReadOnlyDatabase
from questions.schema import SqlExercise, TechnicalQuestion


async def check_sql(question: TechnicalQuestion, answer: str) -> ExerciseResult:
    if question.sql is None:
        raise ValueError(f"{question.id} is not an SQL exercise")
    return await asyncio.to_thread(check_query, question.id, question.sql, split_answer(answer, "sql").code)


def check_query(question_id: str, exercise: SqlExercise, query: str) -> ExerciseResult:
    """Blocking: both fixtures, candidate query against reference query on each."""
    start = time.perf_counter()
    cases: list[CaseResult] = []
    diff_text = ""
    for hidden, fixture in ((False, exercise.fixture), (True, exercise.hidden_fixture)):
        name = "hidden data" if hidden else "visible data"
        with ReadOnlyDatabase(exercise.tables, fixture) as db:
            expected = db.run(exercise.reference_query)
            try:
                got = db.run(query)
            except QueryRefused as exc:
                timed_out = isinstance(exc, QueryTimedOut)
                cases.append(CaseResult(name, hidden, "timeout" if timed_out else "error", str(exc)))
                continue
        diff = compare_rows(
            expected.rows, got.rows, expected.columns, ordered=exercise.ordered, tolerance=exercise.float_tolerance
        )
        if diff.matches:
            cases.append(CaseResult(name, hidden, "pass", seconds=got.seconds))
        elif hidden:
            visible_passed = bool(cases) and cases[0].passed
            lead = "passes the visible data but not" if visible_passed else "also differs on"
            reason = f"{lead} the hidden data, which has {exercise.hidden_note}: {diff.problem}"
            cases.append(CaseResult(name, hidden, "fail", reason, got.seconds))
        else:
            diff_text = sample_tables(diff, expected.columns)
            cases.append(CaseResult(name, hidden, "fail", diff.problem, got.seconds))
    return ExerciseResult(
        question_id, "sql", True, cases=tuple(cases), diff=diff_text, seconds=time.perf_counter() - start
    )
