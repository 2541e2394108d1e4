"""`mock-interviewer doctor` against the fake platforms: what passes, what fails, and no token in sight."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from bot.cli import main
from bot.config import Settings, load_settings
from bot.ops.doctor import discord, llm, port_free, report, run_checks, telegram
from questions.loader import Bank
from storage.ops import database_checks
from tests.fake_discord import running_fake_discord
from tests.fake_llm import running_fake_llm
from tests.fake_telegram import running_fake_telegram
from tests.loopback import serve_on_loopback

TG_TOKEN = "123456789:AAtesttoken_abcdefghijklmnopqrstuv"
DC_TOKEN = "MTE5ODc2NTQzMjEwOTg3NjU0Mw.GabCdE.fakefakefakefakefakefakefakefakefakefake12"
LLM_KEY = "sk-doctor-secret-key-123456"


def settings_for(tmp_path: Path, **env: str) -> Settings:
    return load_settings({"DATA_DIR": str(tmp_path / "data"), **env}, dotenv=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_everything_configured_and_working_exits_0_without_printing_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bank: Bank
) -> None:
    monkeypatch.setattr("bot.configured.load_questions", lambda settings: bank)  # the shipped bank takes long
    async with (
        running_fake_telegram(TG_TOKEN) as tg,
        running_fake_discord(DC_TOKEN) as dc,
        running_fake_llm() as model,
    ):
        settings = settings_for(
            tmp_path,
            TELEGRAM_BOT_TOKEN=TG_TOKEN,
            TELEGRAM_API_BASE_URL=tg.url,
            DISCORD_BOT_TOKEN=DC_TOKEN,
            DISCORD_API_BASE_URL=f"{dc.url}/api/v10",
            LLM_BASE_URL=model.url,
            LLM_MODEL="judge",
            LLM_API_KEY=LLM_KEY,
            METRICS_LISTEN=f"127.0.0.1:{free_port()}",
        )
        checks = await run_checks(settings, database_checks)
    lines: list[str] = []
    code = report(checks, settings.secrets, lines.append)
    text = "\n".join(lines)
    assert code == 0, text
    statuses = {c.name: c.status for c in checks}
    for name in ("settings", "database", "migrations", "data folder", "question bank", "telegram token"):
        assert statuses[name] == "ok", text
    assert statuses["telegram webhook"] == statuses["discord token"] == statuses["llm"] == "ok", text
    assert statuses["metrics port"] == "ok"
    assert "@mock_interviewer_bot" in text
    assert "1 to apply" not in text and "to apply" in text  # a fresh database: `run` migrates it
    for secret in (TG_TOKEN, DC_TOKEN, LLM_KEY):
        assert secret not in text


async def test_no_platform_configured_fails_because_run_would_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bank: Bank
) -> None:
    monkeypatch.setattr("bot.configured.load_questions", lambda settings: bank)
    checks = await run_checks(settings_for(tmp_path), database_checks)
    lines: list[str] = []
    assert report(checks, (), lines.append) == 1
    assert [c.name for c in checks if c.status == "FAIL"] == ["platforms"]
    assert any(line.startswith("FAIL  platforms: neither TELEGRAM_BOT_TOKEN nor DISCORD_BOT_TOKEN") for line in lines)


async def test_bad_tokens_fail_with_what_to_do_and_are_never_printed(tmp_path: Path) -> None:
    other_tg = "987654321:AAanothertoken_abcdefghijklmnopq"
    other_dc = "OTk5ODc2NTQzMjEwOTg3NjU0Mw.XyZaBc.anotheranotheranotheranotheranothera12"
    async with running_fake_telegram(TG_TOKEN) as tg, running_fake_discord(DC_TOKEN) as dc:
        settings = settings_for(
            tmp_path,
            TELEGRAM_BOT_TOKEN=other_tg,
            TELEGRAM_API_BASE_URL=tg.url,
            DISCORD_BOT_TOKEN=other_dc,
            DISCORD_API_BASE_URL=f"{dc.url}/api/v10",
        )
        async with httpx.AsyncClient() as client:
            checks = [*await telegram(settings, client), *await discord(settings, client)]
    lines: list[str] = []
    assert report(checks, settings.secrets, lines.append) == 1
    text = "\n".join(lines)
    assert "FAIL  telegram token: rejected by Telegram (HTTP 401)  -> copy the token again from @BotFather" in text
    assert "FAIL  discord token: rejected by Discord (HTTP 401)  -> reset the token" in text
    assert other_tg not in text and other_dc not in text


async def test_an_api_base_that_answers_a_web_page_fails_instead_of_crashing(tmp_path: Path) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>a login page</html>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", page)
    async with serve_on_loopback(app) as url, httpx.AsyncClient() as client:
        settings = settings_for(
            tmp_path,
            TELEGRAM_BOT_TOKEN=TG_TOKEN,
            TELEGRAM_API_BASE_URL=url,
            DISCORD_BOT_TOKEN=DC_TOKEN,
            DISCORD_API_BASE_URL=url,
        )
        checks = [*await telegram(settings, client), *await discord(settings, client)]
    assert [(c.name, c.status) for c in checks] == [("telegram", "FAIL"), ("discord", "FAIL")]
    assert all("not the platform's API" in c.detail for c in checks)


async def test_webhook_errors_reported_by_telegram_fail(tmp_path: Path) -> None:
    async with running_fake_telegram(TG_TOKEN) as tg:
        tg.webhook = {"url": "https://bot.example.com/telegram", "pending_update_count": 12,
                      "last_error_message": "Connection refused"}  # fmt: skip
        settings = settings_for(
            tmp_path,
            TELEGRAM_BOT_TOKEN=TG_TOKEN,
            TELEGRAM_API_BASE_URL=tg.url,
            TELEGRAM_WEBHOOK_URL="https://bot.example.com/telegram",
            TELEGRAM_WEBHOOK_SECRET="s" * 20,
        )
        async with httpx.AsyncClient() as client:
            checks = await telegram(settings, client)
    assert [c.status for c in checks] == ["ok", "FAIL"]
    assert "Connection refused" in checks[1].detail and "12 updates waiting" in checks[1].detail


async def test_unreachable_database_fails(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, DATABASE_URL=f"postgresql+asyncpg://postgres:pw@127.0.0.1:{free_port()}/nope")
    (check,) = await database_checks(settings.database_url, 10)
    assert check.status == "FAIL" and "cannot connect to the database" in check.detail
    assert "pw@" not in check.line()


async def test_llm_that_returns_garbage_fails_and_a_slow_one_times_out(tmp_path: Path) -> None:
    async with running_fake_llm() as model, httpx.AsyncClient() as client:
        settings = settings_for(tmp_path, LLM_BASE_URL=model.url, LLM_MODEL="judge", LLM_TIMEOUT="1")
        model.mode = "malformed"
        garbage = await llm(settings, client)
        model.mode = "slow"
        slow = await llm(settings, client)
    assert garbage.status == "FAIL" and "malformed reply" in garbage.detail
    assert slow.status == "FAIL" and "no answer within LLM_TIMEOUT=1 s" in slow.detail


def test_metrics_port_in_use_fails() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        check = port_free("metrics port", f"127.0.0.1:{busy.getsockname()[1]}", "METRICS_LISTEN")
    assert check.status == "FAIL" and "change METRICS_LISTEN" in check.fix


def test_invalid_settings_fail_one_line_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    monkeypatch.setenv("METRICS_LISTEN", "nowhere")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  settings: LOG_LEVEL must be one of" in out
    assert "FAIL  settings: METRICS_LISTEN must be host:port" in out
