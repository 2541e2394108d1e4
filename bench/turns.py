"""Turns per second and latency through dispatcher, engine and storage, against a plain SQL floor.

The floor does, per turn, what any stateful bot must: read one conversation's state row and
write it back, in one transaction, with plain SQLAlchemy. Our figure is reported as a ratio of
it, measured in the same run on the same database, because absolute numbers on a shared
machine mean little.

    python -m bench.turns [--users 1000] [--big 10000] [--concurrency 8] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import postgres_url, scratch_schema
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChoiceIn, CommandIn, Inbound, Payload, Reply, TextIn
from bot.core.state import DialogueState
from bot.engine import Engine
from questions.loader import SHIPPED_DIR, load_bank
from storage.database import make_engine, session_factory, sqlite_url, upgrade
from storage.models import DialogueStateRow, Identity, User
from storage.uow import unit_of_work_factory

ANSWER = (
    "Because the model overfits, I would add regularization such as dropout or weight decay, which reduces "
    "variance, and check a learning curve to see whether more data helps."
)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def now() -> datetime:
    return datetime.now(UTC)


def event(user: int, payload: Payload) -> Inbound:
    return Inbound("bench", f"c{user}", "private", f"u{user}", f"user {user}", None, now(), payload)


def button(replies: list[Reply], label: str) -> str | None:
    for reply in reversed(replies):
        for b in reply.buttons:
            if b.label == label:
                return b.choice_id
    return None


async def full_round(dispatch: Callable[[Inbound], Awaitable[list[Reply]]], user: int, latencies: list[float]) -> None:
    async def turn(payload: Payload) -> list[Reply]:
        start = time.perf_counter()
        replies = await dispatch(event(user, payload))
        latencies.append(time.perf_counter() - start)
        return replies

    replies = await turn(CommandIn("mock", ("technical", "medium", "3")))
    for _ in range(3 * 4):  # three questions of at most four turns each
        if any("Scorecard" in r.full_text for r in replies):
            return
        await turn(TextIn(ANSWER))
        replies = await turn(CommandIn("done"))
        if skip := button(replies, "Skip follow-up"):
            replies = await turn(ChoiceIn(skip))
        if good := button(replies, "Good"):
            replies = await turn(ChoiceIn(good))
    raise RuntimeError(f"user {user}: no scorecard after a 3-question round; the script no longer fits the engine")


async def short_visit(dispatch: Callable[[Inbound], Awaitable[list[Reply]]], user: int, latencies: list[float]) -> None:
    for payload in (CommandIn("mock", ("technical", "medium", "3")), TextIn(ANSWER), CommandIn("done")):
        start = time.perf_counter()
        await dispatch(event(user, payload))
        latencies.append(time.perf_counter() - start)


async def drive(
    users: range,
    script: Callable[..., Awaitable[None]],
    dispatch: Callable[[Inbound], Awaitable[list[Reply]]],
    concurrency: int,
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = list(users)

    async def worker() -> None:
        while queue:
            await script(dispatch, queue.pop(), latencies)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies


async def floor(db: AsyncEngine, turns: int, concurrency: int) -> tuple[float, list[float]]:
    """Plain SQLAlchemy: read one state row and write it back, one transaction per turn."""
    sessions = session_factory(db)
    state = DialogueState().model_dump(mode="json")
    async with sessions.begin() as s:
        ids = []
        for i in range(concurrency):
            user = User(display_name=f"floor {i}", created_at=now())
            s.add(user)
            await s.flush()
            s.add(Identity(platform="floor", external_id=str(i), user_id=user.id))
            row = DialogueStateRow(
                user_id=user.id, platform="floor", chat_id=str(i), state=state, version=1, updated_at=now()
            )
            s.add(row)
            await s.flush()
            ids.append(row.id)
    latencies: list[float] = []
    remaining = [turns]
    lock = asyncio.Lock() if db.dialect.name == "sqlite" else contextlib.nullcontext()

    async def worker(row_id: int) -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            start = time.perf_counter()
            async with lock, sessions.begin() as s:
                found = (
                    await s.execute(
                        select(DialogueStateRow.state, DialogueStateRow.version).where(DialogueStateRow.id == row_id)
                    )
                ).one()
                await s.execute(
                    update(DialogueStateRow)
                    .where(DialogueStateRow.id == row_id, DialogueStateRow.version == found.version)
                    .values(state=found.state, version=found.version + 1, updated_at=now())
                )
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in ids))
    return time.perf_counter() - start, latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run_backend(
    name: str, url: str, args: argparse.Namespace, bank_dir: Path, pg_schema: str | None = None
) -> dict[str, float]:
    db = make_engine(url, pg_schema=pg_schema)
    await upgrade(db)
    bank = load_bank([bank_dir])
    engine = Engine(bank, now)
    dispatcher = Dispatcher(engine, unit_of_work_factory(db), now)

    # Latency: one user at a time, so the figure is the cost of a turn, not time spent queueing.
    _, solo = await drive(range(5 * 10**6, 5 * 10**6 + args.solo), full_round, dispatcher.dispatch, 1)
    elapsed, lat = await drive(range(args.users), full_round, dispatcher.dispatch, args.concurrency)
    ours = len(lat) / elapsed
    f_elapsed, f_lat = await floor(db, len(lat), args.concurrency)
    base = len(f_lat) / f_elapsed

    gc.collect()
    mem_small = rss_mb()
    await drive(range(10**6, 10**6 + args.users), short_visit, dispatcher.dispatch, args.concurrency)
    gc.collect()
    mem_small = rss_mb() - mem_small
    mem_big_start = rss_mb()
    await drive(range(2 * 10**6, 2 * 10**6 + args.big), short_visit, dispatcher.dispatch, args.concurrency)
    gc.collect()
    mem_big = rss_mb() - mem_big_start
    await db.dispose()

    print(f"\n== {name}: {args.users} users x full 3-question round, concurrency {args.concurrency}")
    print(
        f"  engine path : {ours:8.0f} turns/s   p50 {pct(lat, 0.5):6.2f} ms   p99 {pct(lat, 0.99):6.2f} ms   ({len(lat)} turns)"
    )
    print(f"  plain floor : {base:8.0f} turns/s   p50 {pct(f_lat, 0.5):6.2f} ms   p99 {pct(f_lat, 0.99):6.2f} ms")
    print(f"  ratio       : {ours / base:8.2f} of the floor's throughput (target >= 0.50)")
    print(f"  one at a time: p50 {pct(solo, 0.5):6.2f} ms   p99 {pct(solo, 0.99):6.2f} ms per turn ({len(solo)} turns)")
    print(
        f"  memory      : +{mem_small:.1f} MB after {args.users} more users, +{mem_big:.1f} MB after {args.big} more users"
    )
    return {
        "ratio": ours / base,
        "p99": pct(lat, 0.99),
        "mem_small": mem_small,
        "mem_big": mem_big,
        "median": statistics.median(lat),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--big", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--solo", type=int, default=100, help="users for the one-at-a-time latency pass")
    parser.add_argument("--bank", type=Path, default=SHIPPED_DIR)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a long run shows each backend as it ends
    with tempfile.TemporaryDirectory() as tmp:
        await run_backend("SQLite", sqlite_url(Path(tmp)), args, args.bank)
    pg = postgres_url()
    if args.skip_postgres or pg is None:
        print("\n(PostgreSQL skipped)")
        return
    async with scratch_schema(pg) as schema:
        await run_backend("PostgreSQL", pg, args, args.bank, pg_schema=schema)


if __name__ == "__main__":
    asyncio.run(main())
