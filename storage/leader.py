"""Which instance schedules: a PostgreSQL advisory lock held on a dedicated connection.

If the leader dies its connection closes, the lock is released, and another instance takes
over at its next attempt. SQLite means one process, which is always the leader.
"""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)
LOCK_KEY = 0x6D6F636B  # "mock"


class Leadership:
    def __init__(self, engine: AsyncEngine, key: int = LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self._conn: AsyncConnection | None = None
        self.is_leader = engine.dialect.name == "sqlite"

    async def check(self) -> bool:
        """True if this instance should run the planner now; cheap to call every tick."""
        if self.engine.dialect.name == "sqlite":
            return True
        try:
            if self._conn is None:
                self._conn = await self.engine.connect()
            if self.is_leader:
                await self._conn.execute(text("SELECT 1"))  # still holding the session, so still the lock
                return True
            got = await self._conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
            await self._conn.commit()
            if got:
                log.info("this instance is now the scheduling leader")
            self.is_leader = bool(got)
        except (DBAPIError, OSError) as exc:
            log.warning("lost the scheduling connection (%s); will retry", type(exc).__name__)
            await self.release()
        return self.is_leader

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        self.is_leader = self.engine.dialect.name == "sqlite"
        if conn is not None:
            # Invalidate rather than return it to the pool: a pooled session would keep the lock.
            with contextlib.suppress(DBAPIError, OSError):
                await conn.invalidate()
                await conn.close()
