"""Sending to Discord for the outbox sender, and discord.py's errors as the delivery layer's retry decisions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
import discord

from adapters.discord.render import render
from bot.core.events import Reply
from bot.delivery.sending import Blocked, RateLimiter, Rejected, RetryLater
from bot.ops.metrics import counted_sends

PLATFORM = "discord"
SEND_TIMEOUT = 30.0


def map_errors(exc: BaseException) -> Exception:
    """A discord.py or network error as the delivery layer's retry decision."""
    if isinstance(exc, discord.Forbidden | discord.NotFound):
        # 403 (50007 cannot send messages to this user, 50001 missing access) or 404 (channel deleted):
        # sending there again will not work until someone acts.
        return Blocked(f"{exc.status} {exc.code}: {exc.text}")
    if isinstance(exc, discord.DiscordServerError):
        return RetryLater(f"{exc.status}: {exc.text}")
    if isinstance(exc, discord.HTTPException) and exc.status == 429:
        retry_after = exc.response.headers.get("Retry-After") if exc.response is not None else None
        return RetryLater("429 rate limited", float(retry_after) if retry_after else None)
    if isinstance(exc, discord.HTTPException):
        return Rejected(f"{exc.status} {exc.code}: {exc.text}")
    if isinstance(exc, TimeoutError | aiohttp.ClientError | OSError):
        return RetryLater(f"{type(exc).__name__}: {exc}")
    raise exc


class DiscordTransport:
    """Sends one engine reply to a channel (a DM channel or a server channel) for the outbox sender."""

    def __init__(
        self,
        client: Callable[[], discord.Client],
        limiter: RateLimiter,
        quiz_messages: Callable[[str], Awaitable[list[tuple[str, str]]]],
    ) -> None:
        self.client = client
        self.limiter = limiter
        self.quiz_messages = quiz_messages

    @counted_sends(PLATFORM)
    async def send(
        self, chat_id: str, chat_kind: str, reply: Reply, thread_id: str | None = None
    ) -> tuple[str, str] | None:
        """`thread_id` is Telegram's; a Discord thread is a channel of its own, so `chat_id` already names it."""
        try:
            return await asyncio.wait_for(self._send(int(chat_id), chat_kind, reply), SEND_TIMEOUT)
        except Exception as exc:  # every failure is mapped to retry, blocked or rejected; none is swallowed
            raise map_errors(exc) from None

    async def _send(self, channel_id: int, chat_kind: str, reply: Reply) -> tuple[str, str] | None:
        channel = self.client().get_partial_messageable(channel_id)
        found: tuple[str, str] | None = None
        for out in render(reply):
            await self.limiter.acquire(str(channel_id), chat_kind == "group")
            message = await channel.send(**out.kwargs())
            if out.poll_ref is not None:
                found = (str(message.id), out.poll_ref)
        if reply.closes:
            await self.lock_quiz(reply.closes)
        return found

    async def lock_quiz(self, run_id: str) -> None:
        """A closed quiz's questions lose their answer buttons, so nobody answers after the results."""
        for chat_id, message_id in await self.quiz_messages(run_id):
            await self.limiter.acquire(chat_id, True)
            message = self.client().get_partial_messageable(int(chat_id)).get_partial_message(int(message_id))
            await message.edit(view=None)
