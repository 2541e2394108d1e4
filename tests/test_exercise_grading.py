"""Exercise scores, the `grade` command on exercises, and bank validation that runs every reference."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.exercises.checking import ExerciseChecker
from bot.exercises.result import CaseResult, ExerciseResult
from bot.exercises.sandbox import Sandbox, SandboxConfig
from bot.exercises.scoring import exercise_score
from bot.grading.claims import ClaimGrader
from questions.loader import SHIPPED_DIR, BankInvalid, load_bank
from tests.conftest import ROOT
from tests.console_driver import warm_bank_cache

SQL_FILE = SHIPPED_DIR / "technical" / "6.3-sql-exercises.yaml"


def result(visible: list[bool], hidden: list[bool], *, executed: bool = True) -> ExerciseResult:
    cases = [CaseResult(f"example {i}", False, "pass" if ok else "fail") for i, ok in enumerate(visible)]
    cases += [CaseResult(f"hidden {i}", True, "pass" if ok else "fail") for i, ok in enumerate(hidden)]
    return ExerciseResult("q", "coding", executed, cases=tuple(cases))


def test_execution_dominates_the_score() -> None:
    assert exercise_score(result([True] * 2, [True] * 4), 0.0) == 3.0
    assert exercise_score(result([True] * 2, [True] * 4), 4.0) == 4.0
    assert exercise_score(result([True] * 2, [True, True, True, False]), 4.0) == pytest.approx(3.625, abs=0.01)
    assert exercise_score(result([True] * 2, [False] * 4), 0.0) == 1.5
    assert exercise_score(result([True, False], [True] * 4), 4.0) == 1.5  # a visible failure caps it low
    assert exercise_score(result([False, False], [True] * 4), 2.0) == 0.5
    assert exercise_score(result([], [], executed=False), 2.7) == 2.7  # not run: the rubric grade stands


SQL_ANSWER = """I start from customers so nobody is lost.

```sql
SELECT c.customer_id, COUNT(o.order_id) AS order_count, COALESCE(SUM(o.amount), 0) AS total_amount
FROM customers AS c LEFT JOIN orders AS o ON o.customer_id = c.customer_id
GROUP BY c.customer_id
```

The left join keeps customers without orders. COUNT of the order id counts only matched orders, since
COUNT(*) would give 1 for the NULL-padded row, and COALESCE turns the NULL sum of nothing into 0.
"""
SQL_SHORTCUT = (
    "SELECT c.customer_id, COUNT(*), SUM(o.amount) FROM customers c JOIN orders o USING (customer_id) GROUP BY 1"
)


def grade(question_id: str, answer: str, data_dir: Path, **env: str) -> dict[str, object]:
    warm_bank_cache(data_dir)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "grade", question_id],
        input=answer,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DATA_DIR": str(data_dir), **env},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, object] = json.loads(done.stdout)
    return out


def test_grade_runs_an_sql_answer_and_names_the_failing_case(tmp_path: Path) -> None:
    good = grade("sql-orders-per-customer", SQL_ANSWER, tmp_path)
    execution = good["execution"]
    assert isinstance(execution, dict) and execution["passed"] and execution["failed"] == []
    assert isinstance(good["score"], float) and good["score"] >= 3.5 and good["explanation"]
    bad = grade("sql-orders-per-customer", SQL_SHORTCUT, tmp_path)
    execution = bad["execution"]
    assert isinstance(execution, dict) and execution["failed"] == ["hidden data"]
    assert bad["score"] == 1.5 and bad["explanation"] is None
    assert "passes the visible data but not the hidden data" in str(bad["feedback"])


async def test_code_without_words_is_not_answered_as_i_dont_know() -> None:
    bank = load_bank([SQL_FILE], check_duplicates=False)
    checker = ExerciseChecker(Sandbox(SandboxConfig()))
    checked = await checker.check(bank.technical["sql-orders-per-customer"], SQL_SHORTCUT, ClaimGrader())
    assert checked.run.executed and "no_explanation" in checked.explanation.flags
    assert "no explanation" in checked.feedback() and "No problem" not in checked.feedback()
    assert checked.score == 1.5


async def test_grade_runs_a_python_answer_or_says_why_not(tmp_path: Path) -> None:
    if (reason := await Sandbox(SandboxConfig()).unavailable()) is not None:
        pytest.skip(f"no code sandbox on this host: {reason}")
    buggy = "```python\nimport bisect\ndef lis_length(nums):\n    tails = []\n    for x in nums:\n        i = bisect.bisect_right(tails, x)\n        tails[i:i + 1] = [x]\n    return len(tails)\n```"
    out = grade("code-lis-length", buggy, tmp_path)
    execution = out["execution"]
    assert isinstance(execution, dict) and execution["executed"] and execution["failed"] == ["hidden 2"]
    assert "repeated values (strictly increasing)" in json.dumps(execution["cases"])
    off = grade("code-lis-length", buggy, tmp_path, CODE_SANDBOX="off")
    execution = off["execution"]
    assert isinstance(execution, dict) and execution["executed"] is False and "CODE_SANDBOX=off" in execution["reason"]
    assert off["explanation"] is not None  # graded on the rubric instead


SQL_ITEM = """bank: technical
questions:
  - id: tiny-sql-exercise
    section: "6.3"
    topic: SQL exercises
    subtopic: counting
    difficulty: easy
    kind: sql
    prompt: Count the rows of table t and return one column called n with that count.
    hints: [COUNT(*)]
    key_points:
      - point: COUNT(*) counts rows
        claims:
          - says: [count (star|rows)]
      - point: One row comes back
        claims:
          - says: [(one|single) row]
    sql:
      tables:
        t: [a INTEGER, b TEXT]
      fixture:
        t:
          - [1, x]
          - [2, y]
      hidden_fixture:
        t: []
      hidden_note: an empty table
      reference_query: SELECT COUNT(*) AS n FROM t
    reference_answer: |
      Count them:

          SELECT COUNT(*) AS n FROM t

      COUNT(*) counts rows and returns one row, even for an empty table.
    roles: [ds]
    seniority: [junior]
    minutes: 3
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "bank.yaml"
    path.write_text(text)
    return path


def test_a_valid_sql_exercise_loads(tmp_path: Path) -> None:
    assert "tiny-sql-exercise" in load_bank([write(tmp_path, SQL_ITEM)]).technical


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            ("SELECT COUNT(*) AS n FROM t", "SELECT COUNT(c) AS n FROM t"),
            "sql.reference_query",
            "fails on the fixture: SQLite error: no such column: c",
        ),
        (
            ("SELECT COUNT(*) AS n FROM t", "SELECT a FROM t WHERE a > 5"),
            "sql.fixture",
            "the reference query returns no rows on it",
        ),
        (("SELECT COUNT(*) AS n FROM t", "DELETE FROM t"), "sql.reference_query", "refused: DELETE"),
        (("kind: sql", "kind: concept"), "sql", "only kind sql may have an `sql` block"),
        (("          - [2, y]", "          - [2]"), "sql.fixture", "t row 2 has 1 values; the table has 2 columns"),
        (("t: [a INTEGER, b TEXT]", "t: [a INTEGER, b BLOB]"), "sql.tables.t.1", "String should match pattern"),
        (
            ("          - [1, x]", "          - [2024-01-01, x]"),
            "sql.fixture.t.0.0",
            "a cell must be a number, text or null, not date (quote dates)",
        ),
        (
            ("hidden_fixture:\n        t: []", "hidden_fixture:\n        u: []"),
            "sql.hidden_fixture",
            "must give rows for exactly the tables t",
        ),
        (
            ("          SELECT COUNT(*) AS n FROM t\n", "          SELECT 1\n"),
            "reference_answer",
            "must show the reference query",
        ),
    ],
)
def test_broken_sql_exercises_name_file_id_and_field(
    tmp_path: Path, change: tuple[str, str], field: str, message: str
) -> None:
    old, new = change
    assert old in SQL_ITEM
    write(tmp_path, SQL_ITEM.replace(old, new))
    with pytest.raises(BankInvalid) as info:
        load_bank([tmp_path])
    assert f"bank.yaml: id tiny-sql-exercise: {field}: " in str(info.value) and message in str(info.value), info.value


def test_kind_sql_needs_its_block(tmp_path: Path) -> None:
    text = (
        SQL_ITEM.split("    sql:\n")[0]
        + "    reference_answer: x\n    roles: [ds]\n    seniority: [junior]\n    minutes: 3\n"
    )
    write(tmp_path, text)
    with pytest.raises(BankInvalid, match=r"id tiny-sql-exercise: sql: Value error, kind sql needs an `sql` block"):
        load_bank([tmp_path])


CODING_ITEM = """bank: technical
questions:
  - id: tiny-coding-exercise
    section: "6.1"
    topic: coding exercises
    subtopic: arithmetic
    difficulty: easy
    kind: coding
    prompt: Write inc(x) returning x plus one, for any integer x.
    hints: [add one]
    key_points:
      - point: Adds one
        claims:
          - says: [(adds|plus) one]
      - point: Works for negatives
        claims:
          - says: [(negative numbers|below zero)]
    tests:
      function: inc
      solution: |
        def inc(x):
            return x + 1
      visible:
        - call: inc(1)
          expected: 2
      hidden:
        - call: inc(-1)
          expected: 0
          why: a negative number
    reference_answer: |
      Add one:

          def inc(x):
              return x + 1

      It adds one, and works for negative numbers too.
    roles: [mle]
    seniority: [junior]
    minutes: 3
"""


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("          why: a negative number\n", "", "tests.hidden", "hidden case 1 needs `why`"),
        ("        - call: inc(1)", "        - call: inc(1", "tests.visible.0.call", "is not valid Python"),
        ("kind: coding", "kind: concept", "tests", "only kind coding may have a `tests` block"),
        ("      function: inc", "      function: 9inc", "tests.function", "String should match pattern"),
    ],
)
def test_broken_coding_exercises_name_file_id_and_field(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    assert old in CODING_ITEM
    write(tmp_path, CODING_ITEM.replace(old, new, 1))
    with pytest.raises(BankInvalid) as info:
        load_bank([tmp_path])
    assert f"bank.yaml: id tiny-coding-exercise: {field}: " in str(info.value) and message in str(info.value), (
        info.value
    )


async def test_a_reference_solution_that_fails_its_tests_is_an_error(tmp_path: Path) -> None:
    if (reason := await Sandbox(SandboxConfig()).unavailable()) is not None:
        pytest.skip(f"no code sandbox on this host: {reason}")
    write(tmp_path, CODING_ITEM.replace("          expected: 0\n", "          expected: 5\n"))
    with pytest.raises(BankInvalid) as info:
        load_bank([tmp_path])  # called from a running event loop, as at start-up
    assert (
        "id tiny-coding-exercise: tests.hidden.0: the reference solution fails it: inc(-1) returned 0, expected 5"
        in str(info.value)
    )


def test_without_a_sandbox_solutions_are_skipped_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODE_SANDBOX", "off")
    write(tmp_path, CODING_ITEM.replace("          expected: 0\n", "          expected: 5\n"))
    bank = load_bank([tmp_path])
    assert bank.notes == [
        "the reference solutions of 1 coding exercises were not run: "
        "code execution is turned off on this server (CODE_SANDBOX=off)"
    ]
    assert main(["questions", "validate", str(tmp_path)]) == 0
    assert "note: the reference solutions of 1 coding exercises were not run" in capsys.readouterr().out
