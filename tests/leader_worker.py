"""A process that takes the scheduling lead and keeps checking it, for tests that freeze it (SIGSTOP)."""

from __future__ import annotations

import asyncio
import sys

from storage.database import make_engine
from storage.leader import Leadership


async def main(url: str, schema: str, lease: float) -> None:
    engine = make_engine(url, pg_schema=schema)
    leadership = Leadership(engine, lease=lease)
    while True:
        print("leader" if await leadership.check() else "follower", flush=True)
        await asyncio.sleep(lease / 6)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
