"""Metrics and health checks over HTTP on 127.0.0.1, after a scripted round through the fake Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.scheduler import SchedulerService
from bot.app import build_app, ops_server, readiness, setup_logging
from bot.config import load_settings
from bot.core.events import Reply, TextIn
from bot.delivery.outbox import Planner
from bot.ops.metrics import instrumented
from bot.ops.server import OpsServer
from questions.loader import Bank
from storage.database import _alembic_config, head_revision, upgrade
from storage.leader import Leadership
from storage.ops import operational_figures, schema_state
from storage.uow import unit_of_work_factory
from tests.conftest import FakeClock, make_event, postgres_url
from tests.fake_telegram import running_fake_telegram
from tests.test_telegram import ADA, BO, TOKEN, Bot, start_bot


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from a Prometheus text page (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return 0.0


@contextlib.asynccontextmanager
async def serving(server: OpsServer) -> AsyncIterator[str]:
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def metrics_page(bot: Bot, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    """The bot's ops server on a free port, and a client for it."""
    bot.app.settings = replace(bot.app.settings, metrics_listen="127.0.0.1:0")
    server = ops_server(bot.app, [bot.adapter], clock)
    assert server is not None
    async with serving(server) as url, httpx.AsyncClient(base_url=url) as http:
        yield http


async def test_counters_move_after_a_scripted_round(tmp_path: Path, bank: Bank, clock: FakeClock) -> None:
    async with running_fake_telegram(TOKEN) as fake:
        async for bot in start_bot(fake, tmp_path, bank, clock):
            async with metrics_page(bot, clock) as http:
                before = (await http.get("/metrics")).text
                await bot.say(ADA, "/mock")
                await bot.press(ADA, "Technical")
                await bot.press(ADA, "Easy")
                await bot.press(ADA, "3")
                await bot.say(ADA, "Because it reduces variance, I would regularize and check a learning curve.")
                await bot.press(ADA, "Done")
                page = await http.get("/metrics")
                health, ready = await http.get("/healthz"), await http.get("/readyz")
                missing = await http.get("/nothing")
                head = await http.head("/healthz")
    after = page.text
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    for kind, at_least in (("command", 1), ("choice", 4), ("text", 1)):
        moved = sample(after, "mock_interviewer_updates_total", platform="telegram", kind=kind) - sample(
            before, "mock_interviewer_updates_total", platform="telegram", kind=kind
        )
        assert moved >= at_least, kind
    assert sample(after, "mock_interviewer_turn_seconds_count", platform="telegram") > sample(
        before, "mock_interviewer_turn_seconds_count", platform="telegram"
    )
    assert sample(after, "mock_interviewer_grade_seconds_count", grader="claims") > sample(
        before, "mock_interviewer_grade_seconds_count", grader="claims"
    )
    assert sample(after, "mock_interviewer_sends_total", platform="telegram", outcome="sent") > sample(
        before, "mock_interviewer_sends_total", platform="telegram", outcome="sent"
    )
    assert sample(after, "mock_interviewer_active_rounds") == 1
    assert (
        "mock_interviewer_outbox_rows" in after and sample(after, "mock_interviewer_outbox_rows", status="pending") == 0
    )
    assert "user" not in "".join(line for line in after.splitlines() if line.startswith("mock_interviewer_"))
    assert health.status_code == 200 and health.text == "ok\n"
    assert ready.status_code == 200, ready.text
    assert "ok telegram: connected" in ready.text and "ok migrations" in ready.text
    assert missing.status_code == 404
    assert head.status_code == 200 and head.content == b""


def moved(before: str, after: str, name: str, **labels: str) -> float:
    return sample(after, name, **labels) - sample(before, name, **labels)


async def test_send_outcomes_ticks_and_subscriptions_show_on_the_page(
    tmp_path: Path, bank: Bank, clock: FakeClock
) -> None:
    async with running_fake_telegram(TOKEN) as fake:
        async for bot in start_bot(fake, tmp_path, bank, clock):
            async with metrics_page(bot, clock) as http:
                before = (await http.get("/metrics")).text
                fake.fail("sendMessage", 429, retry_after=1)
                await bot.say(ADA, "/daily 09:00 UTC")
                fake.fail("sendMessage", 403)
                fake.message(BO, BO, "/help")
                await fake.wait_for(lambda: any("blocked" in error for _, error in fake.rejected))
                await bot.settle()
                await SchedulerService(Planner(bot.app.uow, clock), bot.sender, Leadership(bot.app.db)).tick()
                after = (await http.get("/metrics")).text
    for outcome in ("sent", "retried", "blocked"):
        assert moved(before, after, "mock_interviewer_sends_total", platform="telegram", outcome=outcome) >= 1, outcome
    assert moved(before, after, "mock_interviewer_rate_limited_total", platform="telegram") == 1
    assert moved(before, after, "mock_interviewer_retry_after_seconds_sum", platform="telegram") == 1
    assert moved(before, after, "mock_interviewer_scheduler_ticks_total", role="leader") == 1
    assert sample(after, "mock_interviewer_scheduler_leader") == 1
    assert sample(after, "mock_interviewer_daily_subscriptions") == 1


async def test_a_readiness_check_that_raises_answers_503() -> None:
    async def broken() -> list[tuple[str, bool, str]]:
        raise ConnectionResetError("peer went away")

    async with serving(OpsServer("127.0.0.1:0", broken)) as url, httpx.AsyncClient(base_url=url) as http:
        ready, health = await http.get("/readyz"), await http.get("/healthz")
    assert ready.status_code == 503 and "FAIL checks: raised ConnectionResetError" in ready.text
    assert health.status_code == 200


class Proxy:
    """A TCP forwarder to PostgreSQL that the test can cut and restore: the database going away."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.pipes: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.pipes):
            writer.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.pipes |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.pipes -= {writer, up_writer}


@pytest.mark.postgres
async def test_readiness_follows_the_database(tmp_path: Path, bank: Bank, clock: FakeClock) -> None:
    url = postgres_url()
    if url is None:
        pytest.skip("needs TEST_DATABASE_URL=postgresql+asyncpg://...")
    real = make_url(url)
    proxy = Proxy(real.host or "127.0.0.1", real.port or 5432)
    await proxy.up()
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = load_settings({"DATA_DIR": str(tmp_path), "DATABASE_URL": proxied}, dotenv=None)
    async with build_app(settings, clock=clock, bank=bank) as app:
        server = OpsServer("127.0.0.1:0", lambda: readiness(app, []), check_within=5)
        async with serving(server) as base, httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/readyz")).status_code == 200
            await proxy.down()
            gone = await http.get("/readyz")
            assert (await http.get("/healthz")).status_code == 200  # the process itself is fine
            await proxy.up()
            back = await http.get("/readyz")
    await proxy.down()
    assert gone.status_code == 503 and "FAIL database" in gone.text
    assert back.status_code == 200, back.text


async def test_json_logs_one_object_per_line_with_fields_and_no_token(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG", "TELEGRAM_BOT_TOKEN": TOKEN}
    stream = io.StringIO()
    setup_logging(load_settings(env, dotenv=None), stream)
    try:
        logging.getLogger("bot.test").warning("calling https://api.telegram.org/bot%s/getMe", TOKEN)
        handle = instrumented(lambda event: asyncio.sleep(0, []))
        await handle(make_event(TextIn("hi"), platform="telegram"))
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("bot.test").exception("failed")
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["level"] == "WARNING" and lines[0]["logger"] == "bot.test" and "time" in lines[0]
    assert "[REDACTED]" in lines[0]["message"] and TOKEN not in stream.getvalue()
    turn = next(line for line in lines if line["logger"] == "bot.ops.metrics")
    assert turn["platform"] == "telegram" and turn["kind"] == "text" and turn["latency"] >= 0
    assert "ValueError: boom" in lines[-1]["exception"]


def test_plain_text_logs_stay_the_default(tmp_path: Path) -> None:
    stream = io.StringIO()
    setup_logging(load_settings({"DATA_DIR": str(tmp_path)}, dotenv=None), stream)
    try:
        logging.getLogger("bot.test").warning("plain")
    finally:
        logging.getLogger().handlers.clear()
    assert stream.getvalue().rstrip().endswith("WARNING bot.test: plain")


async def test_outbox_figures_age_from_planning_even_while_retried(db_engine: AsyncEngine, clock: FakeClock) -> None:
    uow = unit_of_work_factory(db_engine)
    async with uow() as store:
        await store.enqueue_replies("telegram", "42", "private", [Reply("hi")], "429", clock())
    assert (await schema_state(db_engine)).up_to_date
    clock.advance(minutes=10)
    figures = await operational_figures(db_engine, clock())
    assert figures.outbox == {"pending": 1} and figures.oldest_pending_seconds == 600
    async with uow() as store:
        (row,) = await store.claim(clock(), "i1", 10, timedelta(minutes=2))
        await store.mark_retry(row.id, row.token, clock() + timedelta(minutes=5), "429 again")
    clock.advance(minutes=1)
    assert (await operational_figures(db_engine, clock())).oldest_pending_seconds == 660
    async with uow() as store:
        await store.mark_sent(row.id, row.token, clock())
    figures = await operational_figures(db_engine, clock())
    assert figures.outbox == {"sent": 1} and figures.oldest_pending_seconds == 0


async def test_a_database_behind_the_code_is_migrated_and_one_at_head_is_left_alone(db_engine: AsyncEngine) -> None:
    from alembic import command

    state = await schema_state(db_engine)  # alembic's own reading of the scripts
    assert head_revision() == state.head and state.up_to_date

    def back_one(connection: Connection) -> None:
        command.downgrade(_alembic_config(connection), "-1")

    async with db_engine.begin() as conn:
        await conn.run_sync(back_one)
    assert (await schema_state(db_engine)).pending == (state.head,)
    await upgrade(db_engine)
    assert (await schema_state(db_engine)).up_to_date
