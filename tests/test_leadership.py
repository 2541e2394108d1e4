"""Scheduling leadership on PostgreSQL with real processes: a leader that freezes is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import make_engine
from storage.leader import Leadership
from tests.conftest import ROOT, postgres_url


@pytest.mark.parametrize("db_engine", ["postgres"], indirect=True)
async def test_a_frozen_leader_is_replaced_within_its_lease(db_engine: AsyncEngine) -> None:
    url = postgres_url()
    assert url is not None
    async with db_engine.connect() as conn:
        schema = str(await conn.scalar(text("SELECT current_schema()")))
    lease = 3.0
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.leader_worker", url, schema, str(lease), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, env={**os.environ},
    )  # fmt: skip
    assert proc.stdout is not None
    ours = Leadership(make_engine(url, pg_schema=schema), lease=lease)
    try:
        async with asyncio.timeout(30):
            while (await proc.stdout.readline()).strip() != b"leader":
                pass
        assert not await ours.check()  # the lock is held by the running leader
        proc.send_signal(signal.SIGSTOP)  # frozen, not dead: its connection stays open
        checks = []
        for _ in range(int(lease * 4)):  # followers check a few times per lease; 2 leases is plenty
            checks.append(await ours.check())
            if checks[-1]:
                break
            await asyncio.sleep(0.5)
        assert checks[-1], "the frozen leader kept the lock"
        proc.send_signal(signal.SIGCONT)  # it wakes up, finds its session gone, and follows
        async with asyncio.timeout(30):
            while (await proc.stdout.readline()).strip() != b"follower":
                pass
        assert await ours.check()
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        await proc.wait()
        await ours.release()
        await ours.engine.dispose()
