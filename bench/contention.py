"""Other users' turn times while some answers are graded by a slow LLM, on SQLite and PostgreSQL.

200 users play a 3-question round all at once (no concurrency cap in the harness); 10 of them are
graded by a fake LLM that answers in 3 s. The figures are the p50/p99 turn times of the other 190,
against the same run with no slow grader, and the number of turns that failed. Targets: p99 within
2x of the run without the slow grader, and no failures.

    python -m bench.contention [--users 200] [--slow 10] [--llm-seconds 3] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench.common import postgres_url, scratch_schema
from bench.turns import ANSWER, button, event, now, pct
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChoiceIn, CommandIn, Payload, Reply, TextIn
from bot.engine import Engine
from bot.grading.claims import ClaimGrader
from bot.grading.verdict import Rubric, Verdict
from questions.loader import SHIPPED_DIR, load_bank
from storage.database import make_engine, sqlite_url, upgrade
from storage.uow import unit_of_work_factory

SLOW_MARK = "(graded by the slow model)"


class SlowLlm:
    """The rubric grader, except that answers carrying SLOW_MARK wait `seconds` first, like an LLM call."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.inner = ClaimGrader()

    async def grade(self, rubric: Rubric, answer: str) -> Verdict:
        if SLOW_MARK in answer:
            await asyncio.sleep(self.seconds)
        return await self.inner.grade(rubric, answer)


async def play(dispatcher: Dispatcher, user: int, slow: bool, latencies: list[float], failures: list[str]) -> None:
    async def turn(payload: Payload) -> list[Reply]:
        start = time.perf_counter()
        try:
            replies = await dispatcher.dispatch(event(user, payload))
        except Exception as exc:  # counted and reported: the figure this benchmark exists for
            failures.append(f"{type(exc).__name__}: {exc}"[:200])
            return []
        if not slow:
            latencies.append(time.perf_counter() - start)
        return replies

    answer = f"{ANSWER} {SLOW_MARK}" if slow else ANSWER
    replies = await turn(CommandIn("mock", ("technical", "medium", "3")))
    for _ in range(3 * 4):
        if not replies or any("Scorecard" in r.full_text for r in replies):
            return
        await turn(TextIn(answer))
        replies = await turn(CommandIn("done"))
        if skip := button(replies, "Skip follow-up"):
            replies = await turn(ChoiceIn(skip))
        if good := button(replies, "Good"):
            replies = await turn(ChoiceIn(good))


async def run(
    url: str, args: argparse.Namespace, slow: int, pg_schema: str | None, first: int
) -> tuple[list[float], list[str]]:
    db = make_engine(url, pg_schema=pg_schema)
    await upgrade(db)
    dispatcher = Dispatcher(
        Engine(load_bank([SHIPPED_DIR]), now, SlowLlm(args.llm_seconds)), unit_of_work_factory(db), now
    )
    latencies: list[float] = []
    failures: list[str] = []
    users = range(first, first + args.users)
    await asyncio.gather(*(play(dispatcher, u, u - first < slow, latencies, failures) for u in users))
    await db.dispose()
    return latencies, failures


async def backend(name: str, url: str, args: argparse.Namespace, pg_schema: str | None = None) -> None:
    base, base_failed = await run(url, args, 0, pg_schema, 0)
    loaded, failed = await run(url, args, args.slow, pg_schema, 10**6)
    ratio = pct(loaded, 0.99) / pct(base, 0.99)
    print(f"\n== {name}: {args.users} users at once, {args.slow} graded by a {args.llm_seconds:.0f} s LLM")
    print(f"  no slow grader : p50 {pct(base, 0.5):8.1f} ms   p99 {pct(base, 0.99):8.1f} ms   ({len(base)} turns)")
    print(
        f"  with slow LLM  : p50 {pct(loaded, 0.5):8.1f} ms   p99 {pct(loaded, 0.99):8.1f} ms   ({len(loaded)} turns)"
    )
    print(f"  p99 ratio      : {ratio:8.2f} (target <= 2.0)")
    print(f"  failures       : {len(base_failed)} without, {len(failed)} with the slow LLM (target 0)")
    for message in sorted(set(base_failed + failed))[:5]:
        print(f"    {message}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--slow", type=int, default=10)
    parser.add_argument("--llm-seconds", type=float, default=3.0)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory() as tmp:
        await backend("SQLite", sqlite_url(Path(tmp)), args)
    pg = postgres_url()
    if args.skip_postgres or pg is None:
        print("\n(PostgreSQL skipped)")
        return
    async with scratch_schema(pg) as schema:
        await backend("PostgreSQL", pg, args, pg_schema=schema)


if __name__ == "__main__":
    asyncio.run(main())
