"""Run every exercise's reference against its own checks when a bank is validated.

A reference query must run on both fixtures (and return rows on the visible one); a reference
solution must pass all of its visible and hidden cases in the sandbox. Solutions are run in one
sandbox process for the whole bank and remembered by content for the rest of the process, so
loading the same bank again costs nothing; the loader caches the validated bank across starts.
Without a sandbox the solutions are skipped with a note, never run unsandboxed.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bot.exercises.python_check import run_tests
from bot.exercises.sandbox import Sandbox, sandbox_config
from bot.exercises.sql_runner import QueryRefused, ReadOnlyDatabase
from questions.loader import Bank, BankError
from questions.schema import CodeTests, TechnicalQuestion

T = TypeVar("T")
_solution_problems: dict[str, list[tuple[str, str]]] = {}  # content digest -> (field, message) per failure


def exercise_errors(bank: Bank) -> tuple[list[BankError], list[str]]:
    """Errors naming file, id and field, and notes on what could not be checked here."""
    errors: list[BankError] = []
    for q in bank.technical.values():
        if q.sql is not None:
            errors += _sql_errors(q, bank.origin[q.id])
    coding = [q for q in bank.technical.values() if q.tests is not None]
    if not coding:
        return errors, []
    coding_errors, notes = _run_blocking(_solution_errors(coding, bank.origin))
    return errors + coding_errors, notes


def _sql_errors(q: TechnicalQuestion, file: str) -> list[BankError]:
    assert q.sql is not None
    errors = []
    for label, fixture in (("fixture", q.sql.fixture), ("hidden_fixture", q.sql.hidden_fixture)):
        with ReadOnlyDatabase(q.sql.tables, fixture) as db:
            try:
                result = db.run(q.sql.reference_query)
            except QueryRefused as exc:
                errors.append(BankError(file, q.id, "sql.reference_query", f"fails on the {label}: {exc}"))
                continue
        if label == "fixture" and not result.rows:
            errors.append(BankError(file, q.id, "sql.fixture", "the reference query returns no rows on it"))
    return errors


async def _solution_errors(
    questions: Sequence[TechnicalQuestion], origin: Mapping[str, str]
) -> tuple[list[BankError], list[str]]:
    sandbox = Sandbox(sandbox_config())
    reason = await sandbox.unavailable()
    if reason is not None:
        return [], [f"the reference solutions of {len(questions)} coding exercises were not run: {reason}"]
    todo = [q for q in questions if _digest(_tests(q)) not in _solution_problems]
    if todo:
        outcomes, _ = await run_tests(sandbox, [(_tests(q), _tests(q).solution) for q in todo], reveal_hidden=True)
        for q, outcome in zip(todo, outcomes, strict=True):
            tests = _tests(q)
            fields = [f"tests.visible.{i}" for i in range(len(tests.visible))]
            fields += [f"tests.hidden.{i}" for i in range(len(tests.hidden))]
            problems = [("tests.solution", outcome.problem)] if outcome.problem else []
            problems += [
                (f, f"the reference solution fails it: {c.reason}")
                for f, c in zip(fields, outcome.cases, strict=True)
                if not c.passed and c.status != "not_run"
            ]
            _solution_problems[_digest(tests)] = problems
    errors = [
        BankError(origin[q.id], q.id, field, message)
        for q in questions
        for field, message in _solution_problems[_digest(_tests(q))]
    ]
    return errors, []


def _tests(q: TechnicalQuestion) -> CodeTests:
    assert q.tests is not None
    return q.tests


def _digest(tests: CodeTests) -> str:
    return hashlib.sha256(tests.model_dump_json().encode()).hexdigest()


def _run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Bank loading is synchronous but may be called from a running event loop (at start-up)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
