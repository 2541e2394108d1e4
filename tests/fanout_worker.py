"""Subprocess for the restart test: plans and sends due daily questions, appending each delivery
to a file. With --pause-at N it stops after the N-th committed send and waits to be killed."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from bot.core.dispatcher import Dispatcher
from bot.core.events import Reply
from bot.delivery.outbox import Planner, Sender
from bot.delivery.sending import Limits, RateLimiter
from bot.engine import Engine
from questions.loader import load_bank
from storage.database import make_engine
from storage.uow import unit_of_work_factory

FIXTURE_BANK = Path(__file__).parent / "fixtures" / "bank"


class FileTransport:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(
        self, chat_id: str, chat_kind: str, reply: Reply, thread_id: str | None = None
    ) -> tuple[str, str] | None:
        with self.path.open("a") as f:
            f.write(chat_id + "\n")
            f.flush()
            os.fsync(f.fileno())
        return None


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--now", required=True)
    parser.add_argument("--pause-at", type=int, default=0)
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now)
    db = make_engine(args.db)
    uow = unit_of_work_factory(db)
    engine = Engine(load_bank([FIXTURE_BANK]), lambda: now)
    dispatcher = Dispatcher(engine, uow, lambda: now)
    count = 0

    def sent(_outbox_id: int) -> None:
        nonlocal count
        count += 1
        print(f"sent {count}", flush=True)
        if count == args.pause_at:
            print("paused", flush=True)
            time.sleep(3600)

    limiter = RateLimiter(Limits(per_second=200))
    sender = Sender(
        uow,
        dispatcher,
        {"test": FileTransport(args.log)},
        {"test": limiter},
        lambda: now,
        "worker-1",
        on_sent=sent,
        workers=1,
        batch=10,
    )
    await sender.recover()
    await Planner(uow, lambda: now).tick()
    await sender.drain()
    print("drained", flush=True)
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
