"""Check a Python answer: run its function on the visible and hidden calls in the sandbox.

The sandbox returns what each call returned; the comparison with the expected values happens
here, so hidden expectations never reach the candidate's process. A subprocess does the work,
so the event loop is never blocked. Without a usable sandbox the code is not run at all.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.exercises.answer import split_answer
from bot.exercises.result import CaseResult, CaseStatus, ExerciseResult
from bot.exercises.sandbox import Sandbox, SandboxRun, payload
from questions.schema import CodeCase, CodeTests, TechnicalQuestion


@dataclass(frozen=True)
class SolutionOutcome:
    cases: tuple[CaseResult, ...]
    problem: str  # the code did not load, or the run stopped early; empty otherwise
    printed: str


async def check_python(question: TechnicalQuestion, answer: str, sandbox: Sandbox) -> ExerciseResult:
    if question.tests is None:
        raise ValueError(f"{question.id} has no tests to run")
    reason = await sandbox.unavailable()
    if reason is not None:
        return ExerciseResult(question.id, "coding", False, reason)
    code = split_answer(answer, "python").code
    [outcome], run = await run_tests(sandbox, [(question.tests, code)], reveal_hidden=False)
    return ExerciseResult(
        question.id, "coding", True, outcome.problem, outcome.cases, output=outcome.printed, seconds=run.seconds
    )


async def run_tests(
    sandbox: Sandbox, items: Sequence[tuple[CodeTests, str]], *, reveal_hidden: bool
) -> tuple[list[SolutionOutcome], SandboxRun]:
    """One sandbox run for any number of (tests, code) pairs: one answer, or every reference solution of a bank."""
    budgets = [t.time_limit_seconds * (len(t.visible) + len(t.hidden) + 2) for t, _ in items]
    data = payload(
        [_job(tests, code) for tests, code in items],
        numpy=any(t.numpy for t, _ in items),
        memory_mb=max(t.memory_limit_mb for t, _ in items),
        cpu_seconds=sum(budgets),
    )
    run = await sandbox.run(data, sum(budgets))
    outcomes = []
    for j, (tests, _) in enumerate(items):
        records = [r for r in run.records if r.get("job") == j]
        outcomes.append(_outcome(tests, records, run, reveal_hidden))
    return outcomes, run


def _job(tests: CodeTests, code: str) -> dict[str, Any]:
    return {
        "setup": tests.setup,
        "code": code,
        "function": tests.function,
        "calls": [c.call for c in (*tests.visible, *tests.hidden)],
        "case_seconds": tests.time_limit_seconds,
    }


def _outcome(tests: CodeTests, records: list[dict[str, Any]], run: SandboxRun, reveal_hidden: bool) -> SolutionOutcome:
    by_case = {r["case"]: r for r in records if "case" in r}
    printed = [str(r["printed"]) for r in records if "printed" in r]
    named = [(f"example {i + 1}", False, c) for i, c in enumerate(tests.visible)]
    named += [(f"hidden {i + 1}", True, c) for i, c in enumerate(tests.hidden)]
    load = by_case.get("load")
    if load is not None:
        why = load.get("error") or f"it took longer than {_seconds(tests)}"
        cases = tuple(CaseResult(name, hidden, "not_run", "not run") for name, hidden, _ in named)
        return SolutionOutcome(cases, f"your code did not run: {why}", "".join(printed))
    results = []
    blamed = bool(printed)  # the job finished; otherwise the first call without a result was running when it stopped
    for i, (name, hidden, case) in enumerate(named):
        record = by_case.get(i)
        if record is not None:
            status, reason = _judge(case, record, tests, reveal=not hidden or reveal_hidden)
            results.append(CaseResult(name, hidden, status, reason, float(record.get("seconds", 0.0))))
        elif not blamed:
            blamed = True
            label = _label(case, reveal=not hidden or reveal_hidden)
            results.append(CaseResult(name, hidden, "timeout" if run.timed_out else "error", f"{label}: {run.stopped}"))
        else:
            results.append(CaseResult(name, hidden, "not_run", "not run"))
    problem = "" if printed else f"the run did not finish: {run.stopped}"
    return SolutionOutcome(tuple(results), problem, "".join(printed))


def _judge(case: CodeCase, record: dict[str, Any], tests: CodeTests, *, reveal: bool) -> tuple[CaseStatus, str]:
    label = _label(case, reveal=reveal)
    status = record.get("status")
    if status == "timeout":
        return "timeout", f"{label}: took longer than {_seconds(tests)}"
    if status == "exception":
        error = record.get("error", "") if reveal else record.get("type", "an error")
        return "error", f"{label}: raised {error}"
    if status == "too_large":
        return "fail", f"{label}: returned a value too large to check"
    tolerance = tests.tolerance if case.tolerance is None else case.tolerance
    expected = json.loads(json.dumps(case.expected))  # the same JSON shapes the harness sends: int keys become text
    got = record.get("value")
    if same_json(expected, got, tolerance):
        return "pass", ""
    if reveal:
        return "fail", f"{case.call} returned {_short(got)}, expected {_short(expected)}"
    return "fail", f"{label}: wrong result"


def _label(case: CodeCase, *, reveal: bool) -> str:
    """How a case is named in feedback: its call, or for a hidden case only what it probes."""
    return case.call if reveal else str(case.why or "hidden case")


def same_json(expected: Any, got: Any, tolerance: float) -> bool:
    """Equal as JSON data: integers exactly, other numbers within the tolerance (absolute or relative),
    NaN equal to NaN."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(expected) is type(got) and expected == got
    if isinstance(expected, int) and isinstance(got, int):
        return expected == got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        try:
            want, have = float(expected), float(got)
        except OverflowError:  # an integer beyond any float
            return False
        if math.isnan(want) or math.isnan(have):
            return math.isnan(want) and math.isnan(have)
        return math.isclose(want, have, rel_tol=tolerance, abs_tol=tolerance)
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(same_json(e, g, tolerance) for e, g in zip(expected, got, strict=True))
    if isinstance(expected, dict) and isinstance(got, dict):
        return expected.keys() == got.keys() and all(same_json(expected[k], got[k], tolerance) for k in expected)
    return type(expected) is type(got) and bool(expected == got)


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _seconds(tests: CodeTests) -> str:
    return f"{tests.time_limit_seconds:g} s"
