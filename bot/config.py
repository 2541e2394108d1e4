"""Settings from the environment and `.env`, checked once at start with one clear line per problem."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from bot.core import texts

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    extra_bank_dirs: tuple[Path, ...] = ()
    log_level: str = "INFO"
    llm_base_url: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_model: str | None = None
    llm_timeout: float = 20.0
    telegram_token: str | None = field(default=None, repr=False)
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "0.0.0.0:8080"
    telegram_webhook_secret: str | None = field(default=None, repr=False)
    discord_token: str | None = field(default=None, repr=False)
    discord_dev_guild_id: int | None = None
    discord_shards: str | None = None
    discord_api_base_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"
    instance_id: str = "main"
    log_format: str = "text"
    metrics_listen: str | None = None
    messages_per_minute: int = 20
    grades_per_hour: int = 60
    group_quizzes_per_hour: int = 6
    max_message_chars: int = texts.MAX_MESSAGE_CHARS

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log line."""
        values = (self.llm_api_key, self.telegram_token, self.telegram_webhook_secret, self.discord_token)
        return tuple(s for s in values if s)


def load_settings(env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    values: dict[str, str] = {}
    if dotenv is not None and dotenv.exists():
        values.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    values.update(os.environ if env is None else env)
    problems: list[str] = []

    def get(name: str) -> str | None:
        raw = values.get(name)
        return raw.strip() if raw and raw.strip() else None

    data_dir = Path(get("DATA_DIR") or "data").expanduser()
    database_url = get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir.resolve() / 'mock-interviewer.db'}"
    if "://" not in database_url:
        problems.append(
            f"DATABASE_URL must look like sqlite+aiosqlite:///path or postgresql+asyncpg://..., got {database_url[:40]!r}"
        )

    extra: list[Path] = []
    for raw in (get("EXTRA_BANK_DIRS") or "").split(os.pathsep):
        if raw.strip():
            path = Path(raw.strip()).expanduser()
            if not path.is_dir():
                problems.append(f"EXTRA_BANK_DIRS: {path} is not a folder")
            extra.append(path)

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")

    llm_base_url, llm_model = get("LLM_BASE_URL"), get("LLM_MODEL")
    if llm_base_url and not llm_base_url.startswith(("http://", "https://")):
        problems.append(f"LLM_BASE_URL must start with http:// or https://, got {llm_base_url[:40]!r}")
    if llm_base_url and not llm_model:
        problems.append("LLM_MODEL is required when LLM_BASE_URL is set")
    llm_timeout = 20.0
    if raw_timeout := get("LLM_TIMEOUT"):
        try:
            llm_timeout = float(raw_timeout)
            if not 1 <= llm_timeout <= 300:
                raise ValueError
        except ValueError:
            problems.append(f"LLM_TIMEOUT must be a number of seconds between 1 and 300, got {raw_timeout!r}")

    telegram_token = get("TELEGRAM_BOT_TOKEN")
    if telegram_token and not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", telegram_token):
        problems.append("TELEGRAM_BOT_TOKEN does not look like a bot token (digits:letters, as BotFather gives it)")
    telegram_base = get("TELEGRAM_API_BASE_URL") or "https://api.telegram.org"
    if not telegram_base.startswith(("http://", "https://")):
        problems.append("TELEGRAM_API_BASE_URL must start with http:// or https://")
    webhook_url, webhook_secret = get("TELEGRAM_WEBHOOK_URL"), get("TELEGRAM_WEBHOOK_SECRET")
    if webhook_url and not webhook_url.startswith("https://"):
        problems.append("TELEGRAM_WEBHOOK_URL must be an https:// URL that Telegram can reach")
    if webhook_url and not (webhook_secret and re.fullmatch(r"[A-Za-z0-9_-]{16,256}", webhook_secret)):
        problems.append(
            "TELEGRAM_WEBHOOK_SECRET is required with a webhook: 16-256 characters of A-Z, a-z, 0-9, _ and -"
        )
    webhook_listen = get("TELEGRAM_WEBHOOK_LISTEN") or "0.0.0.0:8080"
    if not re.fullmatch(r".*:\d{1,5}", webhook_listen):
        problems.append(f"TELEGRAM_WEBHOOK_LISTEN must be host:port, got {webhook_listen!r}")

    discord_token = get("DISCORD_BOT_TOKEN")
    if discord_token and not re.fullmatch(r"[A-Za-z0-9_.-]{50,100}", discord_token):
        problems.append("DISCORD_BOT_TOKEN does not look like a bot token (the long string from the Developer Portal)")
    dev_guild = get("DISCORD_DEV_GUILD_ID")
    if dev_guild and not dev_guild.isdigit():
        problems.append(f"DISCORD_DEV_GUILD_ID must be a server id (digits), got {dev_guild[:30]!r}")
    shards = get("DISCORD_SHARDS")
    if shards and shards != "auto" and not (shards.isdigit() and 1 <= int(shards) <= 1000):
        problems.append(f"DISCORD_SHARDS must be 'auto' or a number of shards, got {shards[:20]!r}")
    discord_base = get("DISCORD_API_BASE_URL") or "https://discord.com/api/v10"
    if not discord_base.startswith(("http://", "https://")):
        problems.append("DISCORD_API_BASE_URL must start with http:// or https://")
    discord_gateway = get("DISCORD_GATEWAY_URL") or "wss://gateway.discord.gg/"
    if not discord_gateway.startswith(("ws://", "wss://")):
        problems.append("DISCORD_GATEWAY_URL must start with ws:// or wss://")

    log_format = (get("LOG_FORMAT") or "text").lower()
    if log_format not in LOG_FORMATS:
        problems.append(f"LOG_FORMAT must be text or json, got {log_format!r}")
    metrics_listen = get("METRICS_LISTEN")
    if metrics_listen and not re.fullmatch(r".+:\d{1,5}", metrics_listen):
        problems.append(f"METRICS_LISTEN must be host:port (e.g. 127.0.0.1:9100), got {metrics_listen!r}")

    def limit(name: str, default: int, top: int) -> int:
        raw = get(name)
        if raw is None:
            return default
        if not (raw.isdigit() and 1 <= int(raw) <= top):
            problems.append(f"{name} must be a whole number from 1 to {top}, got {raw[:20]!r}")
            return default
        return int(raw)

    messages_per_minute = limit("RATE_MESSAGES_PER_MINUTE", 20, 10_000)
    grades_per_hour = limit("RATE_GRADES_PER_HOUR", 60, 100_000)
    group_quizzes_per_hour = limit("RATE_GROUP_QUIZZES_PER_HOUR", 6, 1_000)
    # Only lower than the engine's own cap: it refuses longer messages whatever this says.
    max_message_chars = limit("MAX_MESSAGE_CHARS", texts.MAX_MESSAGE_CHARS, texts.MAX_MESSAGE_CHARS)

    if problems:
        raise ConfigError(problems)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        extra_bank_dirs=tuple(extra),
        log_level=log_level,
        llm_base_url=llm_base_url,
        llm_api_key=get("LLM_API_KEY"),
        llm_model=llm_model,
        llm_timeout=llm_timeout,
        telegram_token=telegram_token,
        telegram_api_base_url=telegram_base,
        telegram_webhook_url=webhook_url,
        telegram_webhook_listen=webhook_listen,
        telegram_webhook_secret=webhook_secret,
        discord_token=discord_token,
        discord_dev_guild_id=int(dev_guild) if dev_guild else None,
        discord_shards=shards,
        discord_api_base_url=discord_base,
        discord_gateway_url=discord_gateway,
        instance_id=get("INSTANCE_ID") or socket.gethostname() or "main",
        log_format=log_format,
        metrics_listen=metrics_listen,
        messages_per_minute=messages_per_minute,
        grades_per_hour=grades_per_hour,
        group_quizzes_per_hour=group_quizzes_per_hour,
        max_message_chars=max_message_chars,
    )
