"""Updates per second through the whole Telegram path (fake Bot API on loopback, the real
python-telegram-bot stack, our adapter, dispatcher, engine and SQLite) against, in the same run,
the simplest echo handler on the same python-telegram-bot stack and the same fake.

    python -m bench.telegram [--users 100] [--messages 5]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.app import build_app, telegram_runtime
from bot.config import load_settings
from bot.delivery.sending import Limits, RateLimiter
from questions.loader import SHIPPED_DIR, load_bank
from tests.fake_telegram import FakeTelegram, running_fake_telegram

TOKEN = "123456789:AAbenchtoken_abcdefghijklmnopqrstu"


def push_load(fake: FakeTelegram, users: int, messages: int) -> int:
    for m in range(messages):
        for u in range(users):
            fake.message(10_000 + u, 10_000 + u, "hello there" if m else "/help")
    return users * messages


async def measure(fake: FakeTelegram, users: int, messages: int) -> float:
    before = len(fake.calls("sendMessage"))
    start = time.perf_counter()
    total = push_load(fake, users, messages)
    await fake.wait_for(lambda: len(fake.calls("sendMessage")) - before >= total, within=600)
    return total / (time.perf_counter() - start)


async def echo(users: int, messages: int) -> float:
    async with running_fake_telegram(TOKEN) as fake:

        async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.effective_message is not None
            await update.effective_message.reply_text(update.effective_message.text or "")

        app = ApplicationBuilder().token(TOKEN).base_url(f"{fake.url}/bot").concurrent_updates(64).build()
        app.add_handler(MessageHandler(filters.ALL, reply))
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            return await measure(fake, users, messages)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()


async def ours(users: int, messages: int) -> float:
    async with running_fake_telegram(TOKEN) as fake:
        with tempfile.TemporaryDirectory() as tmp:
            env = {"DATA_DIR": tmp, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.url}
            settings = load_settings(env, dotenv=None)
            async with build_app(settings, bank=load_bank([SHIPPED_DIR])) as app:
                adapter, _ = telegram_runtime(app, lambda: datetime.now(UTC))
                adapter.settings = replace(adapter.settings, poll_timeout=1)
                # Throughput, not pacing: the echo baseline has no limiter either.
                adapter.transport.limiter = RateLimiter(
                    Limits(per_second=100_000, per_chat_interval=0, per_group_minute=10**6)
                )
                await adapter.start()
                try:
                    return await measure(fake, users, messages)
                finally:
                    await adapter.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--messages", type=int, default=5)
    args = parser.parse_args()
    base = await echo(args.users, args.messages)
    full = await ours(args.users, args.messages)
    print(f"telegram: {args.users * args.messages} updates from {args.users} users (fake Bot API on 127.0.0.1)")
    print(f"  echo handler on python-telegram-bot : {base:7.1f} updates/s")
    print(f"  mock interviewer, end to end (SQLite): {full:7.1f} updates/s = {full / base:.2f} of echo (target >= 0.5)")


if __name__ == "__main__":
    asyncio.run(main())
