"""The composition root: the one place that wires config, storage, bank, engine and adapters."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.errors import PlatformUnreachable
from bot.config import ConfigError, Settings
from bot.configured import load_questions, make_grader
from bot.core.dispatcher import Dispatcher
from bot.core.events import Inbound, Reply
from bot.delivery.outbox import SENDER_WORKERS, Planner, Sender
from bot.delivery.ports import HeldVote
from bot.delivery.sending import Limits, RateLimiter, Transport
from bot.engine import Engine
from bot.exercises.checking import ExerciseChecker
from bot.exercises.sandbox import Sandbox, sandbox_config
from bot.grading.verdict import Grader
from bot.ops import metrics
from bot.ops.limits import AbuseLimits, LimitSettings
from bot.ops.logs import JsonFormatter
from bot.ops.metrics import TimedGrader, instrumented
from questions.loader import Bank
from storage.database import DatabaseConfigError, check_connection, make_engine, upgrade
from storage.leader import Leadership
from storage.ops import operational_figures, schema_state
from storage.uow import SqlUnitOfWork, unit_of_work_factory

if TYPE_CHECKING:  # the platform stacks load only when a platform runs: `chat` starts without them
    from adapters.discord.adapter import DiscordAdapter
    from adapters.telegram.adapter import TelegramAdapter
    from bot.ops.server import OpsServer

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


ADAPTER_CONCURRENCY = 32  # events each platform adapter handles at once


def pool_size_for(settings: Settings) -> int:
    """Half the connections the bot can use at once (make_engine allows as many again on demand):
    every event in flight may need one briefly (none is held while grading), plus the sender's
    workers and the leadership connection. So no event ever waits for the pool to time out."""
    platforms = sum(1 for token in (settings.telegram_token, settings.discord_token) if token) or 1
    return -(-(ADAPTER_CONCURRENCY * platforms + SENDER_WORKERS + 2) // 2)


class RedactingFilter(logging.Filter):
    """Replaces secrets (tokens, API keys) in every log record: the message, its arguments, and the
    formatted traceback and stack (a proxy or self-hosted Bot API echoes `/bot<token>/...` in errors).
    A secret is also caught URL-encoded, as it appears in a request path."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        forms = {form for s in secrets if len(s) >= 6 for form in (s, quote(s, safe=""))}
        self._pattern = (
            re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))) if forms else None
        )

    def redact(self, text: str) -> str:
        return self._pattern.sub("[REDACTED]", text) if self._pattern is not None else text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._pattern is None:
            return True
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.redact(_FORMATTER.formatException(record.exc_info))
            record.exc_info = None  # no handler may format the raw exception again
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_FORMATTER = logging.Formatter()


def setup_logging(settings: Settings, stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream)
    text = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else text)
    handler.addFilter(RedactingFilter(settings.secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for noisy in ("httpx", "aiosqlite", "sqlalchemy.engine", "alembic", "apscheduler"):
        # Their INFO lines (APScheduler logs two per tick) drown the bot's own; LOG_LEVEL=DEBUG shows all.
        logging.getLogger(noisy).setLevel(logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING)


@dataclass
class App:
    settings: Settings
    bank: Bank
    engine: Engine
    dispatcher: Dispatcher
    db: AsyncEngine
    uow: Callable[[], SqlUnitOfWork]
    handle: Callable[[Inbound], Awaitable[list[Reply]]]  # what platforms call: the dispatcher, limited and timed


@asynccontextmanager
async def build_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    bank: Bank | None = None,
    grader: Grader | None = None,
    new_id: Callable[[], str] | None = None,
) -> AsyncIterator[App]:
    """Connect, migrate and wire everything; nothing connects at import time.
    `new_id` makes round ids (which seed question choice) reproducible, for tests and benchmarks.
    The database is checked before the bank loads, so a wrong DATA_DIR or DATABASE_URL fails at once."""
    db = make_engine(settings.database_url, pool_size=pool_size_for(settings))
    try:
        await check_connection(db)
        await upgrade(db)
        bank = bank or load_questions(settings)
        exercises = ExerciseChecker(Sandbox(sandbox_config()))
        limits = AbuseLimits(
            LimitSettings(
                settings.messages_per_minute,
                settings.grades_per_hour,
                settings.group_quizzes_per_hour,
                settings.max_message_chars,
            ),
            clock,
        )
        grading = limits.grader(TimedGrader(grader or make_grader(settings)))
        engine = Engine(bank, clock, grading, **({"new_id": new_id} if new_id else {}), exercises=exercises)
        uow = unit_of_work_factory(db)
        dispatcher = Dispatcher(engine, uow, clock)
        yield App(settings, bank, engine, dispatcher, db, uow, instrumented(limits.gate(dispatcher.dispatch)))
    finally:
        await db.dispose()


class _Delivery:
    """What every platform adapter reports back: replies to retry later, chats that blocked the bot."""

    def __init__(self, app: App, clock: Callable[[], datetime], platform: str) -> None:
        self.app, self.clock, self.platform = app, clock, platform

    async def undeliverable(
        self,
        platform: str,
        chat_id: str,
        kind: str,
        replies: list[Reply],
        error: str,
        owner: str,
        thread_id: str | None = None,
    ) -> None:
        async with self.app.uow() as store:
            await store.enqueue_replies(platform, chat_id, kind, replies, error, self.clock(), owner, thread_id)
        log.warning("%s chat %s: reply queued for a later retry (%s)", platform, chat_id, error)

    async def blocked(self, chat_id: str, reason: str) -> None:
        async with self.app.uow() as store:
            count = await store.deactivate_chat(self.platform, chat_id, reason)
        log.warning("%s chat %s: %s; %d subscription(s) deactivated", self.platform, chat_id, reason, count)

    async def poll_lookup(self, poll_id: str) -> tuple[str, str] | None:
        async with self.app.uow() as store:
            return await store.poll_ref(self.platform, poll_id)

    async def hold_vote(self, vote: HeldVote) -> tuple[str, str] | None:
        """Keep a vote on a poll not recorded yet for the sender to count; if the poll got recorded
        meanwhile and the vote is still held, take it back and return the poll for the caller to count."""
        async with self.app.uow() as store:
            await store.hold_vote(self.platform, vote)
        async with self.app.uow() as store:
            found = await store.poll_ref(self.platform, vote.poll_id)
            if found is None or not await store.take_votes(self.platform, vote.poll_id, vote.event_id):
                return None
            return found

    async def quiz_messages(self, run_id: str) -> list[tuple[str, str]]:
        async with self.app.uow() as store:
            return await store.polls_of_run(self.platform, run_id)

    async def record_polls(self, chat_id: str, polls: list[tuple[str, str]]) -> None:
        async with self.app.uow() as store:
            await store.record_polls(self.platform, chat_id, polls, self.clock())


def telegram_adapter(app: App, clock: Callable[[], datetime]) -> TelegramAdapter:
    settings = app.settings
    from adapters.telegram.adapter import TelegramAdapter, TelegramSettings

    assert settings.telegram_token
    delivery = _Delivery(app, clock, "telegram")
    return TelegramAdapter(
        TelegramSettings(
            settings.telegram_token,
            settings.telegram_api_base_url,
            settings.telegram_webhook_url,
            settings.telegram_webhook_listen,
            settings.telegram_webhook_secret,
            concurrency=ADAPTER_CONCURRENCY,
        ),
        app.handle,
        RateLimiter(Limits(per_second=30, per_chat_interval=1.0, per_group_minute=20, per_chat_burst=3)),
        delivery.poll_lookup,
        delivery.hold_vote,
        delivery.undeliverable,
        delivery.blocked,
        clock,
    )


def discord_adapter(app: App, clock: Callable[[], datetime]) -> DiscordAdapter:
    settings = app.settings
    from adapters.discord.adapter import DiscordAdapter, DiscordSettings

    assert settings.discord_token
    delivery = _Delivery(app, clock, "discord")
    return DiscordAdapter(
        DiscordSettings(
            settings.discord_token,
            settings.discord_api_base_url,
            settings.discord_gateway_url,
            settings.discord_dev_guild_id,
            settings.discord_shards,
            concurrency=ADAPTER_CONCURRENCY,
        ),
        app.handle,
        # Broadcasts stay under Discord's 50 requests/s global limit with room for interactions;
        # discord.py itself follows each route's limits from the response headers.
        RateLimiter(Limits(per_second=40, per_chat_interval=0.25, per_group_minute=120)),
        delivery.undeliverable,
        delivery.blocked,
        delivery.quiz_messages,
        delivery.record_polls,
        clock,
    )


def make_sender(app: App, clock: Callable[[], datetime], transports: dict[str, Transport]) -> Sender:
    # Each transport paces itself with its adapter's limiter, so the sender adds none of its own.
    return Sender(app.uow, app.dispatcher, transports, {}, clock, app.settings.instance_id)


def telegram_runtime(app: App, clock: Callable[[], datetime]) -> tuple[TelegramAdapter, Sender]:
    """The Telegram adapter and an outbox sender that delivers through it."""
    telegram = telegram_adapter(app, clock)
    return telegram, make_sender(app, clock, {"telegram": telegram.transport})


def discord_runtime(app: App, clock: Callable[[], datetime]) -> tuple[DiscordAdapter, Sender]:
    """The Discord adapter and an outbox sender that delivers through it."""
    discord = discord_adapter(app, clock)
    return discord, make_sender(app, clock, {"discord": discord.transport})


async def serve(settings: Settings, stop: asyncio.Event, *, clock: Callable[[], datetime] = utc_now) -> None:
    """`mock-interviewer run`: every configured platform plus the scheduler, in one event loop, until `stop`."""
    if not settings.telegram_token and not settings.discord_token:
        raise ConfigError(
            [
                "no chat platform configured: set TELEGRAM_BOT_TOKEN and/or DISCORD_BOT_TOKEN; "
                "to try it in a terminal use `mock-interviewer chat`"
            ]
        )
    async with build_app(settings, clock=clock) as app:
        adapters: list[TelegramAdapter | DiscordAdapter] = []
        transports: dict[str, Transport] = {}
        if settings.telegram_token:
            telegram = telegram_adapter(app, clock)
            adapters.append(telegram)
            transports["telegram"] = telegram.transport
        if settings.discord_token:
            discord = discord_adapter(app, clock)
            adapters.append(discord)
            transports["discord"] = discord.transport
        ops = ops_server(app, adapters, clock)
        from adapters.scheduler import SchedulerService

        service = SchedulerService(
            Planner(app.uow, clock),
            make_sender(app, clock, transports),
            Leadership(app.db),
            housekeeping=lambda: housekeeping(app, clock),
        )
        started: list[TelegramAdapter | DiscordAdapter] = []
        if ops is not None:
            await ops.start()  # first, so /healthz answers while the platforms connect
        try:
            for adapter in adapters:
                if not await start_with_retries(adapter.start, type(adapter).__name__.removesuffix("Adapter"), stop):
                    return
                started.append(adapter)
            await service.start()
            try:
                await stop.wait()
            finally:
                await service.stop()
        finally:
            for adapter in reversed(started):
                await adapter.stop()
            if ops is not None:
                await ops.stop()


def ops_server(
    app: App, adapters: Sequence[TelegramAdapter | DiscordAdapter], clock: Callable[[], datetime]
) -> OpsServer | None:
    """/metrics, /healthz and /readyz on METRICS_LISTEN, when it is set."""
    if not app.settings.metrics_listen:
        return None
    from bot.ops.server import OpsServer

    return OpsServer(app.settings.metrics_listen, lambda: readiness(app, adapters), lambda: refresh(app, clock))


async def readiness(app: App, adapters: Sequence[TelegramAdapter | DiscordAdapter]) -> list[tuple[str, bool, str]]:
    """Ready: the database answers, its schema is this release's, and every configured platform is connected."""
    checks: list[tuple[str, bool, str]] = []
    try:
        await check_connection(app.db, limit=3)
        schema = await schema_state(app.db)
    except DatabaseConfigError as exc:
        checks.append(("database", False, str(exc)))
    except SQLAlchemyError as exc:  # the connection dropped between the two queries
        checks.append(("database", False, type(exc).__name__))
    else:
        checks.append(("database", True, "reachable"))
        checks.append(("migrations", schema.up_to_date, f"at {schema.current}, code expects {schema.head}"))
    for adapter in adapters:
        name = type(adapter).__name__.removesuffix("Adapter").lower()
        checks.append((name, adapter.connected, "connected" if adapter.connected else "not connected"))
    return checks


async def refresh(app: App, clock: Callable[[], datetime]) -> None:
    """The database figures behind the outbox, rounds and subscription gauges, read at scrape time."""
    figures = await operational_figures(app.db, clock())
    for status in {*metrics.OUTBOX_STATUSES, *figures.outbox}:
        metrics.OUTBOX.labels(status).set(figures.outbox.get(status, 0))
    metrics.OUTBOX_OLDEST.set(figures.oldest_pending_seconds)
    metrics.ACTIVE_ROUNDS.set(figures.active_rounds)
    metrics.DAILY.set(figures.daily_subscriptions)


async def start_with_retries(
    start: Callable[[], Awaitable[None]],
    name: str,
    stop: asyncio.Event,
    *,
    first_wait: float = 2.0,
    longest_wait: float = 300.0,
) -> bool:
    """Start a platform adapter, waiting longer after each failed attempt while the platform cannot be
    reached (one log line per attempt). False if `stop` was set meanwhile. A rejected token is not retried."""
    wait, attempt = first_wait, 1
    while True:
        try:
            await start()
            return True
        except PlatformUnreachable as exc:
            log.warning("%s is unreachable (%s); attempt %d failed, next in %.0f s", name, exc, attempt, wait)
        try:
            await asyncio.wait_for(stop.wait(), wait)
            return False
        except TimeoutError:
            wait, attempt = min(longest_wait, wait * 2), attempt + 1


async def housekeeping(app: App, clock: Callable[[], datetime]) -> None:
    """Daily: forget settled outbox rows and old dedupe keys, which only matter for a few days."""
    now = clock()
    async with app.uow() as store:
        await store.prune_outbox(now - timedelta(days=30))  # sent and failed rows alike
        await store.prune_processed(now - timedelta(days=7))
        await store.prune_held_votes(now - timedelta(days=1))  # their polls were never recorded
