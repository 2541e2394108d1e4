"""Cost of checking exercise answers, against running the reference alone in the same run.

SQL: `check_sql` on a correct answer (both fixtures, the answer and the reference query on each,
a locked-down connection, a worker thread) against the reference query on the visible fixture in
a plain in-memory SQLite, loading the fixture included. Python: `check_python` on the reference
solution in the sandbox against the same solution and calls run in this process. Then the event
loop's worst lag (a 5 ms ticker) while Python answers are checked, one of them an endless loop.

    python -m bench.exercises [--runs 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.exercises.python_check import check_python
from bot.exercises.sandbox import Sandbox, sandbox_config
from bot.exercises.sql_check import check_sql
from bot.exercises.sql_runner import load_fixture
from questions.loader import SHIPPED_DIR, load_bank
from questions.schema import TechnicalQuestion

SQL_ID = "sql-sessions-per-user"
PYTHON_ID = "code-lis-length"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def plain_sql(q: TechnicalQuestion) -> None:
    assert q.sql is not None
    conn = sqlite3.connect(":memory:")
    load_fixture(conn, q.sql.tables, q.sql.fixture)
    conn.execute(q.sql.reference_query).fetchall()
    conn.close()


def in_process(q: TechnicalQuestion) -> None:
    assert q.tests is not None
    namespace: dict[str, Any] = {}
    exec(q.tests.setup, namespace)
    exec(q.tests.solution, namespace)
    for case in (*q.tests.visible, *q.tests.hidden):
        eval(case.call, namespace)


async def timed(fn: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return samples


def timed_here(fn: Callable[[], None], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


async def max_lag_while(work: Awaitable[object]) -> float:
    """The longest a 5 ms ticker on this loop waited beyond its 5 ms while `work` ran."""
    lag = 0.0
    done = False

    async def ticker() -> None:
        nonlocal lag
        while not done:
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            lag = max(lag, time.perf_counter() - start - 0.005)

    task = asyncio.create_task(ticker())
    await work
    done = True
    await task
    return lag * 1000


async def run(runs: int) -> None:
    start = time.perf_counter()
    technical = load_bank([SHIPPED_DIR / "technical"], check_duplicates=False).technical
    first = time.perf_counter() - start
    start = time.perf_counter()
    load_bank([SHIPPED_DIR / "technical"], check_duplicates=False)
    again = time.perf_counter() - start
    exercises = sum(1 for q in technical.values() if q.sql or q.tests)
    print(f"technical bank with {exercises} exercises: first validation {first * 1000:.0f} ms (runs every reference")
    print(f"  query and solution), again in the same process {again * 1000:.0f} ms (solutions remembered)")
    sql_q, py_q = technical[SQL_ID], technical[PYTHON_ID]
    assert sql_q.sql is not None and py_q.tests is not None
    sandbox = Sandbox(sandbox_config())

    sql_answer = f"```sql\n{sql_q.sql.reference_query}\n```"
    assert (await check_sql(sql_q, sql_answer)).passed
    checked = await timed(lambda: check_sql(sql_q, sql_answer), runs)
    plain = timed_here(lambda: plain_sql(sql_q), runs)
    (c50, c99), (p50, p99) = percentiles(checked), percentiles(plain)
    print(f"SQL ({SQL_ID}), {runs} runs: check p50 {c50:.2f} ms, p99 {c99:.2f} ms")
    print(f"  reference alone on the fixture  : p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"  ratio check / reference alone   : p50 {c50 / p50:.1f}x, p99 {c99 / p99:.1f}x")

    if (reason := await sandbox.unavailable()) is not None:
        print(f"Python: not measured, no sandbox here: {reason}")
        return
    answer = f"```python\n{py_q.tests.solution}\n```"
    assert (await check_python(py_q, answer, sandbox)).passed
    holder: list[list[float]] = []

    async def python_series() -> None:
        holder.append(await timed(lambda: check_python(py_q, answer, sandbox), runs))

    lag = await max_lag_while(python_series())
    alone = timed_here(lambda: in_process(py_q), runs)
    (c50, c99), (p50, p99) = percentiles(holder[0]), percentiles(alone)
    print(f"Python ({PYTHON_ID}, {len(py_q.tests.visible) + len(py_q.tests.hidden)} calls), {runs} runs: ", end="")
    print(f"check p50 {c50:.0f} ms, p99 {c99:.0f} ms")
    print(f"  reference in this process       : p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"  ratio check / reference alone   : p50 {c50 / p50:.1f}x, p99 {c99 / p99:.1f}x")
    endless = "```python\nwhile True:\n    pass\n```"  # stopped at the per-call limit, before any call
    hostile_start = time.perf_counter()
    hostile_lag = await max_lag_while(check_python(py_q, endless, sandbox))
    hostile_seconds = time.perf_counter() - hostile_start
    idle_lag = await max_lag_while(asyncio.sleep(2))
    print(f"event loop, max lag of a 5 ms ticker: {lag:.1f} ms during the {runs} checks, ", end="")
    print(f"{hostile_lag:.1f} ms during an endless-loop answer ({hostile_seconds:.1f} s), {idle_lag:.1f} ms idle")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    asyncio.run(run(parser.parse_args().runs))


if __name__ == "__main__":
    main()
