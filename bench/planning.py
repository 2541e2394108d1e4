"""100,000 daily subscriptions due in the same minute: planning time and memory against a plain
bulk insert of the same 100,000 outbox rows, measured in the same run on the same database.

    python -m bench.planning [--subs 100000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import postgres_url, scratch_schema
from bot.delivery.outbox import Planner
from bot.subscriptions.schedule import zone
from storage.database import make_engine, session_factory, sqlite_url, upgrade
from storage.models import OutboxRow, SubscriptionRow, User
from storage.uow import unit_of_work_factory

DUE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BATCH = 5000


async def seed(db: AsyncEngine, n: int) -> None:
    sessions = session_factory(db)
    async with sessions.begin() as s:
        user = User(display_name="bench", created_at=DUE)
        s.add(user)
        await s.flush()
        uid = user.id
    zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Asia/Tokyo"]
    for start in range(0, n, BATCH):
        rows = [
            dict(
                kind="daily",
                platform="bench",
                chat_id=str(i),
                user_id=uid,
                external_user_id=str(i),
                active=True,
                local_time=DUE.astimezone(zone(zones[i % len(zones)])).strftime("%H:%M"),  # all due at one instant
                zone=zones[i % len(zones)],
                days="mon,tue,wed,thu,fri,sat,sun",
                settings={},
                next_run_at=DUE,
                updated_at=DUE,
            )
            for i in range(start, min(n, start + BATCH))
        ]
        async with sessions.begin() as s:
            await s.execute(insert(SubscriptionRow), rows)


async def bulk_insert(db: AsyncEngine, n: int) -> float:
    """The floor: the same number of outbox rows, plain executemany inserts in the same batches."""
    sessions = session_factory(db)
    start = time.perf_counter()
    for first in range(0, n, BATCH):
        rows = [
            dict(
                key=f"floor:{i}",
                job="daily",
                platform="bench",
                chat_id=str(i),
                chat_kind="private",
                external_user_id=str(i),
                ref=str(i),
                not_before=DUE,
                status="pending",
                attempts=0,
                created_at=DUE,
            )
            for i in range(first, min(n, first + BATCH))
        ]
        async with sessions.begin() as s:
            await s.execute(insert(OutboxRow), rows)
    elapsed = time.perf_counter() - start
    async with sessions.begin() as s:
        await s.execute(delete(OutboxRow).where(OutboxRow.key.like("floor:%")))
    return elapsed


async def run(name: str, url: str, n: int, pg_schema: str | None = None) -> None:
    db = make_engine(url, pg_schema=pg_schema)
    await upgrade(db)
    await seed(db, n)
    floor = await bulk_insert(db, n)
    planner = Planner(unit_of_work_factory(db), lambda: DUE + timedelta(seconds=5), batch=BATCH)
    tracemalloc.start()
    start = time.perf_counter()
    created = await planner.tick()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    again = await planner.tick()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n== {name}: {n:,} subscriptions due in one minute")
    print(f"  plain bulk insert (floor): {floor:7.2f} s")
    print(f"  plan + write outbox      : {elapsed:7.2f} s  = {elapsed / floor:.2f}x the floor (target <= 3x)")
    print(f"  rows created             : {created:,} (second tick created {again})")
    print(
        f"  peak Python memory       : {peak / 2**20:7.1f} MB while planning; process peak RSS {rss:.0f} MB (target < 300 MB)"
    )
    await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subs", type=int, default=100_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await run("SQLite", sqlite_url(Path(tmp)), args.subs)
    pg = postgres_url()
    if args.skip_postgres or pg is None:
        print("\n(PostgreSQL skipped)")
        return
    async with scratch_schema(pg) as schema:
        await run("PostgreSQL", pg, args.subs, pg_schema=schema)


if __name__ == "__main__":
    asyncio.run(main())
