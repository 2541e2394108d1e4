"""Which instance schedules: a PostgreSQL advisory lock held on a dedicated connection.

If the leader dies its connection closes, the lock is released, and another instance takes
over at its next attempt. A leader that freezes (stopped, swapping, a lost host) would keep its
session and so the lock: the session is therefore a lease the leader renews with every check
(a heartbeat every few seconds), and PostgreSQL ends it after `lease` seconds without one
(idle_session_timeout), with TCP keepalives and a statement timeout for hosts that vanish
mid-query. Another instance then takes over at its next check. SQLite means one process,
which is always the leader.
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
    def __init__(self, engine: AsyncEngine, key: int = LOCK_KEY, *, lease: float = 30.0) -> None:
        """Call check() much more often than every `lease` seconds (SchedulerService does every 10 s)."""
        self.engine = engine
        self.key = key
        self.lease = lease
        self._conn: AsyncConnection | None = None
        self.is_leader = engine.dialect.name == "sqlite"

    async def _connect(self) -> AsyncConnection:
        conn = await self.engine.connect()
        ms = int(self.lease * 1000)
        for setting, value in (
            ("idle_session_timeout", ms),  # a leader silent this long is frozen or gone: end its session
            ("statement_timeout", ms // 3),
            ("tcp_keepalives_idle", max(1, int(self.lease) // 3)),
            ("tcp_keepalives_interval", max(1, int(self.lease) // 6)),
            ("tcp_keepalives_count", 3),
        ):
            await conn.execute(  # only where the server has it (idle_session_timeout: PostgreSQL 14+)
                text("SELECT set_config(name, :value, false) FROM pg_settings WHERE name = :name"),
                {"name": setting, "value": str(int(value))},
            )
        await conn.commit()
        return conn

    async def check(self) -> bool:
        """True if this instance should run the planner now; cheap to call every tick."""
        if self.engine.dialect.name == "sqlite":
            return True
        try:
            if self._conn is None:
                self._conn = await self._connect()
            if self.is_leader:
                await self._conn.execute(text("SELECT 1"))  # still holding the session, so still the lock
                await self._conn.commit()  # idle, not idle in a transaction: the lease counts from here
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
