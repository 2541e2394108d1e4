"""`mock-interviewer doctor`: every dependency the configuration names, checked the way the bot uses it.

One line per check, with what to do when it fails. Exit 0 only when everything asked for works.
Tokens are never printed: they go into request URLs and headers only, and every line is redacted.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bot.config import Settings

TIMEOUT = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, FAIL, skip
    detail: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}" + (f"  -> {self.fix}" if self.fix else "")


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "FAIL", detail, fix)


def skip(name: str, detail: str) -> Check:
    return Check(name, "skip", detail)


NO_PLATFORM = fail(
    "platforms",
    "neither TELEGRAM_BOT_TOKEN nor DISCORD_BOT_TOKEN is set, so `mock-interviewer run` will not start",
    "set one or both (see .env.example); `mock-interviewer chat` needs neither",
)

DatabaseChecks = Callable[[str, float], Awaitable[list[Check]]]  # (DATABASE_URL, seconds) -> checks


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[REDACTED]")
    return text


def data_folder(settings: Settings) -> Check:
    folder = settings.data_dir.resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".doctor-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return fail("data folder", f"{folder} is not writable ({exc.strerror})", "fix its owner or set DATA_DIR")
    return ok("data folder", f"{folder} writable")


def bank(settings: Settings) -> Check:
    from bot.configured import load_questions
    from questions.loader import BankInvalid

    try:
        loaded = load_questions(settings)
    except BankInvalid as exc:
        first = str(exc).splitlines()
        return fail(
            "question bank",
            "; ".join(first[:3]) + (f" (and {len(first) - 3} more)" if len(first) > 3 else ""),
            "fix the named files, or check them with `mock-interviewer questions validate PATH`",
        )
    count = sum(len(s) for s in (loaded.technical, loaded.behavioral, loaded.design, loaded.quiz))
    packs = len(settings.extra_bank_dirs)
    return ok("question bank", f"{count} questions valid" + (f", with {packs} extra pack(s)" if packs else ""))


async def telegram(settings: Settings, client: httpx.AsyncClient) -> list[Check]:
    if not settings.telegram_token:
        return [skip("telegram", "TELEGRAM_BOT_TOKEN not set")]
    base = f"{settings.telegram_api_base_url.rstrip('/')}/bot{settings.telegram_token}"
    try:
        me = await client.get(f"{base}/getMe", timeout=TIMEOUT)
        if me.status_code in (401, 404):
            return [
                fail(
                    "telegram token",
                    f"rejected by Telegram (HTTP {me.status_code})",
                    "copy the token again from @BotFather (/mybots > API Token) into TELEGRAM_BOT_TOKEN",
                )
            ]
        if me.status_code != 200:
            return [fail("telegram token", f"getMe answered HTTP {me.status_code}", "retry later; check status")]
        found = [ok("telegram token", f"accepted: @{me.json()['result'].get('username', '?')}")]
        info = await client.get(f"{base}/getWebhookInfo", timeout=TIMEOUT)
        found.append(_webhook(settings, info.json()["result"]))
        return found
    except httpx.HTTPError as exc:
        return [
            fail(
                "telegram",
                f"cannot reach {settings.telegram_api_base_url} ({type(exc).__name__})",
                "check the network, a proxy, or TELEGRAM_API_BASE_URL",
            )
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # a web page or a proxy's answer
        return [not_the_api("telegram", settings.telegram_api_base_url, exc, "TELEGRAM_API_BASE_URL")]


def _webhook(settings: Settings, info: dict[str, Any]) -> Check:
    current, error = info.get("url") or "", info.get("last_error_message")
    pending = int(info.get("pending_update_count") or 0)
    if settings.telegram_webhook_url is None:
        if current:
            return ok("telegram webhook", f"a webhook is set ({current}); long polling removes it at start")
        return ok("telegram webhook", f"none; the bot uses long polling ({pending} updates waiting)")
    if current != settings.telegram_webhook_url:
        return ok("telegram webhook", f"set to {current or 'nothing'} now; `run` sets {settings.telegram_webhook_url}")
    if error:
        return fail(
            "telegram webhook",
            f"Telegram's last delivery to {current} failed: {error} ({pending} updates waiting)",
            "check that the reverse proxy forwards /telegram over valid HTTPS to TELEGRAM_WEBHOOK_LISTEN",
        )
    return ok("telegram webhook", f"{current}, {pending} updates waiting")


async def discord(settings: Settings, client: httpx.AsyncClient) -> list[Check]:
    if not settings.discord_token:
        return [skip("discord", "DISCORD_BOT_TOKEN not set")]
    base = settings.discord_api_base_url.rstrip("/")
    headers = {"Authorization": f"Bot {settings.discord_token}"}
    try:
        me = await client.get(f"{base}/users/@me", headers=headers, timeout=TIMEOUT)
        if me.status_code == 401:
            return [
                fail(
                    "discord token",
                    "rejected by Discord (HTTP 401)",
                    "reset the token in the Developer Portal (Bot > Reset Token) and set DISCORD_BOT_TOKEN",
                )
            ]
        if me.status_code != 200:
            return [fail("discord token", f"users/@me answered HTTP {me.status_code}", "retry later; check status")]
        found = [ok("discord token", f"accepted: {me.json().get('username', '?')}")]
        gateway = await client.get(f"{base}/gateway/bot", headers=headers, timeout=TIMEOUT)
        body = gateway.json()
        shards, remaining = int(body.get("shards", 1)), body.get("session_start_limit", {}).get("remaining", 1)
        if remaining == 0:
            found.append(
                fail("discord gateway", "no gateway logins left today", "wait for the daily reset; avoid restart loops")
            )
        elif shards > 1 and settings.discord_shards is None:
            found.append(
                fail("discord gateway", f"Discord asks for {shards} shards", "set DISCORD_SHARDS=auto (or a number)")
            )
        else:
            found.append(ok("discord gateway", f"{shards} shard(s) recommended, {remaining} logins left today"))
        # The adapter asks only for guilds and dm_messages, which need no approval in the portal.
        found.append(ok("discord intents", "guilds and dm_messages; no privileged intent needed"))
        return found
    except httpx.HTTPError as exc:
        return [
            fail(
                "discord",
                f"cannot reach {settings.discord_api_base_url} ({type(exc).__name__})",
                "check the network, a proxy, or DISCORD_API_BASE_URL",
            )
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return [not_the_api("discord", settings.discord_api_base_url, exc, "DISCORD_API_BASE_URL")]


def not_the_api(name: str, base: str, exc: Exception, setting: str) -> Check:
    return fail(
        name,
        f"{base} answered with something that is not the platform's API ({type(exc).__name__})",
        f"check {setting} and any proxy in between",
    )


async def llm(settings: Settings, client: httpx.AsyncClient) -> Check:
    if not settings.llm_base_url or not settings.llm_model:
        return skip("llm", "not configured; the offline rubric grader grades")
    from bot.grading.llm import LlmGrader, LlmGraderError

    grader = LlmGrader(
        settings.llm_base_url,
        settings.llm_model,
        settings.llm_api_key,
        timeout=settings.llm_timeout,
        retries=0,
        client=client,
    )
    try:
        judged = await grader.probe()
    except TimeoutError:
        return fail(
            "llm",
            f"no answer within LLM_TIMEOUT={settings.llm_timeout:g} s",
            "raise LLM_TIMEOUT, use a smaller model, or check the server's load",
        )
    except LlmGraderError as exc:
        return fail(
            "llm",
            f"{settings.llm_base_url} with model {settings.llm_model}: {exc}",
            "check LLM_BASE_URL (it ends in /v1), LLM_MODEL and LLM_API_KEY; the model must reply in JSON",
        )
    return ok("llm", f"{settings.llm_model} answered with a valid verdict ({judged} points judged)")


def port_free(name: str, listen: str | None, setting: str) -> Check:
    if not listen:
        return skip(name, f"{setting} not set")
    host, _, port = listen.rpartition(":")
    with socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), int(port)))
        except OSError as exc:
            return fail(name, f"cannot listen on {listen} ({exc.strerror})", f"stop what uses it or change {setting}")
    return ok(name, f"{listen} free")


async def run_checks(
    settings: Settings, database: DatabaseChecks, client: httpx.AsyncClient | None = None
) -> list[Check]:
    """`database` comes from storage (the entry point wires it), which the rest of bot/ never imports."""
    own = client is None
    http = client or httpx.AsyncClient()
    try:
        checks: list[Check] = [ok("settings", "valid")]
        checks += await database(settings.database_url, TIMEOUT)
        checks.append(data_folder(settings))
        checks.append(await asyncio.to_thread(bank, settings))
        tg, dc, model = await asyncio.gather(telegram(settings, http), discord(settings, http), llm(settings, http))
        if settings.telegram_token or settings.discord_token:
            checks += [*tg, *dc, model]
        else:  # `run` refuses to start without a platform
            checks += [NO_PLATFORM, model]
        checks.append(port_free("metrics port", settings.metrics_listen, "METRICS_LISTEN"))
        if settings.telegram_webhook_url:
            checks.append(port_free("webhook port", settings.telegram_webhook_listen, "TELEGRAM_WEBHOOK_LISTEN"))
        return checks
    finally:
        if own:
            await http.aclose()


def report(checks: list[Check], secrets: tuple[str, ...], out: Callable[[str], None] = print) -> int:
    for check in checks:
        out(redact(check.line(), secrets))
    failed = sum(c.status == "FAIL" for c in checks)
    out(redact(f"{failed} check(s) failed" if failed else "everything the configuration asks for works", secrets))
    return 1 if failed else 0


def settings_failed(problems: list[str]) -> int:
    """The settings themselves are invalid: nothing else can be checked."""
    for problem in problems:
        print(fail("settings", problem, "fix it in .env or the environment").line())
    print(f"{len(problems)} check(s) failed")
    return 1
