"""The sender's achieved rate against a fake platform that enforces 30 messages per second
(any message that would make more than 30 in the trailing second gets a 429).

    python -m bench.sender_rate [--sends 300] [--limit 30]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

from bench.planning import DUE, seed
from bot.core.dispatcher import Dispatcher
from bot.core.events import Reply
from bot.delivery.outbox import Planner, Sender
from bot.delivery.sending import Limits, RateLimiter, RetryLater
from bot.engine import Engine
from questions.loader import SHIPPED_DIR, load_bank
from storage.database import make_engine, sqlite_url, upgrade
from storage.uow import unit_of_work_factory


class RateEnforcingFake:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.window: deque[float] = deque()
        self.accepted: list[float] = []
        self.rejected = 0

    async def send(
        self, chat_id: str, chat_kind: str, reply: Reply, thread_id: str | None = None
    ) -> tuple[str, str] | None:
        now = time.monotonic()
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        if len(self.window) >= self.limit:
            self.rejected += 1
            raise RetryLater("Too Many Requests: retry after 1", 1.0)
        self.window.append(now)
        self.accepted.append(now)
        return None


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sends", type=int, default=300)
    parser.add_argument("--limit", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = make_engine(sqlite_url(Path(tmp)))
        await upgrade(db)
        await seed(db, args.sends)
        uow = unit_of_work_factory(db)
        clock = lambda: DUE.replace(second=5)  # noqa: E731
        await Planner(uow, clock).tick()
        engine = Engine(load_bank([SHIPPED_DIR]), lambda: datetime.now(UTC))
        fake = RateEnforcingFake(args.limit)
        sender = Sender(
            uow,
            Dispatcher(engine, uow, clock),
            {"bench": fake},
            {"bench": RateLimiter(Limits(per_second=args.limit))},
            clock,
            "bench",
        )
        start = time.monotonic()
        sent = await sender.drain()
        elapsed = time.monotonic() - start
        await db.dispose()
    span = fake.accepted[-1] - fake.accepted[0]
    rate = (len(fake.accepted) - 1) / span if span else float("inf")
    print(f"sender: {sent} scheduled sends through the engine and a {args.limit}/s rate-enforcing fake")
    print(f"  achieved send rate : {rate:6.2f} msg/s = {rate / args.limit:.3f} of the limit (target within 5%)")
    print(f"  429s received      : {fake.rejected} (target 0)")
    print(f"  wall time          : {elapsed:6.1f} s, including composing each question through the engine")


if __name__ == "__main__":
    asyncio.run(main())
