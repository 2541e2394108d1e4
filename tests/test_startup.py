"""Start-up as operators see it, as real `mock-interviewer run` subprocesses: a rejected token is one
clear line, an unreachable platform is retried, and no secret reaches a log line or a traceback."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import setup_logging
from bot.config import load_settings
from storage.database import make_engine, upgrade
from tests.conftest import postgres_url
from tests.console_driver import warm_bank_cache
from tests.fake_telegram import running_fake_telegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAtesttoken_abcdefghijklmnopqrstuv"


async def run_bot(tmp: Path, base_url: str, token: str = TOKEN) -> asyncio.subprocess.Process:
    warm_bank_cache(tmp)  # or the bot validates the whole bank before it tries the platform
    env = {**os.environ, "DATA_DIR": str(tmp), "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": base_url,
           "PYTHONUNBUFFERED": "1"}  # fmt: skip
    env.pop("DATABASE_URL", None)
    env.pop("DISCORD_BOT_TOKEN", None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def read_until(proc: asyncio.subprocess.Process, needle: str, seen: list[str], within: float = 60) -> None:
    assert proc.stderr is not None
    async with asyncio.timeout(within):
        while not any(needle in line for line in seen):
            line = (await proc.stderr.readline()).decode()
            assert line, f"exited before {needle!r}: {''.join(seen)}"
            seen.append(line)


def test_a_traceback_with_the_token_is_redacted() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "DATA_DIR": "/tmp"}, dotenv=None)
    stream = io.StringIO()
    setup_logging(settings, stream)
    try:
        try:  # what a proxy that echoes the request path makes python-telegram-bot raise
            raise RuntimeError(f"502 from https://proxy/bot{TOKEN}/getUpdates and /bot{quote(TOKEN, safe='')}/getMe")
        except RuntimeError:
            logging.getLogger("telegram.ext.Updater").exception("Exception happened while polling for updates.")
        logging.getLogger("x").warning("with a stack", stack_info=True)
    finally:
        logging.getLogger().handlers.clear()
    text = stream.getvalue()
    assert "Traceback" in text and "[REDACTED]/getUpdates" in text and "[REDACTED]/getMe" in text
    assert TOKEN.split(":")[1] not in text and quote(TOKEN, safe="") not in text


async def test_a_rejected_token_is_one_clear_line(tmp_path: Path) -> None:
    async with running_fake_telegram(TOKEN) as fake:
        wrong = "987654321:AAwrongtoken_abcdefghijklmnopqrstu"
        proc = await run_bot(tmp_path, fake.url, wrong)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 120)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    text = (out + err).decode()
    assert proc.returncode == 2, text
    assert "TELEGRAM_BOT_TOKEN was rejected by Telegram" in text
    assert "Traceback" not in text and wrong.split(":")[1] not in text


async def test_an_unreachable_platform_is_retried_until_it_answers(tmp_path: Path, unused_tcp_port: int) -> None:
    proc = await run_bot(tmp_path, f"http://127.0.0.1:{unused_tcp_port}")
    seen: list[str] = []
    try:
        await read_until(proc, "attempt 1 failed", seen)  # nothing listens yet: said once per attempt
        async with running_fake_telegram(TOKEN, unused_tcp_port):
            await read_until(proc, "telegram: running as", seen)
            proc.send_signal(signal.SIGTERM)
            _, rest = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = "".join(seen) + rest.decode()
    assert proc.returncode == 0, text
    assert "Telegram is unreachable" in text and "Traceback" not in text and TOKEN.split(":")[1] not in text


@pytest.mark.parametrize("db_engine", ["postgres"], indirect=True)
async def test_instances_starting_together_on_a_fresh_database_both_migrate(db_engine: AsyncEngine) -> None:
    url = postgres_url()
    assert url is not None
    schema = f"fresh_{uuid.uuid4().hex[:10]}"
    async with db_engine.begin() as conn:
        await conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engines = [make_engine(url, pg_schema=schema) for _ in range(4)]
    try:
        async with asyncio.timeout(60):  # before the lock: one died on a duplicate table, or they deadlocked
            await asyncio.gather(*(upgrade(e) for e in engines))
        async with engines[0].connect() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        assert version is not None and version >= "0004"
    finally:
        for e in engines:
            await e.dispose()
        async with db_engine.begin() as conn:
            await conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
