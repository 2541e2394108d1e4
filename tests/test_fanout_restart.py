"""A fan-out killed with SIGKILL half way and started again: nothing lost, nothing sent twice."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.core.dispatcher import Dispatcher
from bot.engine import Engine
from storage.database import make_engine, sqlite_url, upgrade
from storage.models import OutboxRow
from storage.uow import unit_of_work_factory
from tests.conftest import ROOT, FakeClock, cmd
from tests.harness import event

USERS = 60


async def test_sigkill_mid_fanout_then_restart(tmp_path: Path, engine: Engine, clock: FakeClock) -> None:
    url = sqlite_url(tmp_path)
    db = make_engine(url)
    await upgrade(db)
    uow = unit_of_work_factory(db)
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    dispatcher = Dispatcher(engine, uow, clock)
    for i in range(USERS):
        await dispatcher.dispatch(event(cmd("daily", "09:00", "UTC"), f"u{i}", clock))
    log = tmp_path / "deliveries.txt"
    worker = [
        sys.executable,
        "-m",
        "tests.fanout_worker",
        "--db",
        url,
        "--log",
        str(log),
        "--now",
        "2026-03-02T09:00:30+00:00",
    ]

    first = subprocess.Popen(
        [*worker, "--pause-at", "25"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert first.stdout is not None
    for line in first.stdout:
        if line.strip() == "paused":
            break
    else:
        raise AssertionError(f"worker ended early: {first.stderr.read() if first.stderr else ''}")
    first.kill()  # SIGKILL: no cleanup, no chance to finish the batch it had claimed
    first.wait(timeout=30)
    assert first.returncode == -9
    assert len(log.read_text().split()) == 25

    second = subprocess.run(worker, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "drained" in second.stdout

    delivered = Counter(log.read_text().split())
    assert set(delivered) == {f"dm-u{i}" for i in range(USERS)}  # nothing lost
    assert max(delivered.values()) == 1  # nothing sent twice
    async with uow() as u:
        statuses = Counter((await u.session.scalars(select(OutboxRow.status))).all())
    assert statuses == Counter({"sent": USERS})
    await db.dispose()
