"""Telegram through python-telegram-bot: updates become engine events, replies become Bot API calls.

It translates and renders only; every decision about what to say is the engine's.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from telegram import BotCommand, Chat, Message, Update
from telegram.constants import ChatAction, ChatMemberStatus, ParseMode, PollType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

from adapters.cache import TtlCache
from adapters.errors import PlatformUnreachable
from adapters.telegram.render import escape_chunks, keyboard, message_chunks
from bot.config import ConfigError
from bot.core.events import ChatKind, ChoiceIn, CommandIn, Inbound, Payload, PollAnswerIn, Reply, TextIn
from bot.delivery.ports import HeldVote
from bot.delivery.sending import Blocked, Moved, RateLimiter, Rejected, RetryLater, with_retries
from bot.ops.metrics import counted_sends

# Opt in to timedelta retry_after values now, as python-telegram-bot will require later.
os.environ.setdefault("PTB_TIMEDELTA", "1")
log = logging.getLogger(__name__)
PLATFORM = "telegram"
COMMANDS = [
    ("mock", "Start or resume a mock interview round"),
    ("daily", "Daily question settings"),
    ("quiz", "Quiz drill, or this group's channel quiz"),
    ("hint", "A hint for the current question"),
    ("done", "Finish your answer"),
    ("skip", "Skip the current question"),
    ("ask", "A clarifying question in a design round"),
    ("repeat", "Show the current question again"),
    ("time", "Time spent on this question"),
    ("pause", "Pause the round"),
    ("stop", "End the round with a scorecard"),
    ("history", "Your recent rounds"),
    ("stats", "Your progress by book section, with a chart"),
    ("settings", "Daily-question or group quiz settings"),
    ("leaderboard", "This group's quiz leaderboard"),
    ("export", "Everything stored about you, as files"),
    ("forget", "Delete everything stored about you"),
    ("link", "Share progress with your Discord account"),
    ("help", "What I can do"),
]
ADMIN_CACHE_SECONDS = 300
ADMIN_CACHE_SIZE = 10_000
GRADING_COMMANDS = ("done",)


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    api_base_url: str = "https://api.telegram.org"
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0:8080"
    webhook_secret: str | None = None
    poll_timeout: int = 30
    concurrency: int = 32  # updates handled at once; the database pool is sized from it


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramTransport:
    """Sends one engine reply; maps Bot API errors to the delivery layer's retry decisions."""

    def __init__(self, application: Application, limiter: RateLimiter) -> None:  # type: ignore[type-arg]
        self.bot = application.bot
        self.limiter = limiter

    @counted_sends(PLATFORM)
    async def send(
        self, chat_id: str, chat_kind: str, reply: Reply, thread_id: str | int | None = None
    ) -> tuple[str, str] | None:
        try:
            return await self._send(int(chat_id), chat_kind, reply, int(thread_id) if thread_id else None)
        except RetryAfter as exc:
            raise RetryLater(str(exc), retry_seconds(exc)) from None
        except Forbidden as exc:
            raise Blocked(exc.message) from None
        except BadRequest as exc:
            raise Rejected(exc.message) from None
        except ChatMigrated as exc:
            raise Moved(str(exc.new_chat_id)) from None
        except (TimedOut, NetworkError) as exc:  # NetworkError also covers 5xx answers
            raise RetryLater(f"{type(exc).__name__}: {exc.message}") from None
        except TelegramError as exc:  # InvalidToken, EndPointNotFound, Conflict: maybe fixed later, so retried
            raise RetryLater(f"{type(exc).__name__}: {exc.message}") from None

    async def _send(self, chat: int, chat_kind: str, reply: Reply, thread_id: int | None) -> tuple[str, str] | None:
        is_group = chat_kind == "group"
        if reply.poll is not None:
            p = reply.poll
            await self.limiter.acquire(str(chat), is_group)
            message = await self.bot.send_poll(
                chat,
                p.question,
                list(p.options),
                type=PollType.QUIZ,
                correct_option_ids=[p.correct_option],
                explanation=p.explanation or None,
                open_period=max(5, min(600, p.open_period)),
                is_anonymous=False,
                message_thread_id=thread_id,
            )
            return (message.poll.id, p.ref) if message.poll else None
        if reply.attachment is not None:
            a = reply.attachment
            await self.limiter.acquire(str(chat), is_group)
            caption = escape_chunks(reply.full_text[:1000])[0] if reply.full_text else None
            if a.is_image:
                await self.bot.send_photo(
                    chat, a.data, caption=caption, parse_mode=ParseMode.HTML, message_thread_id=thread_id
                )
            else:
                await self.bot.send_document(
                    chat,
                    a.data,
                    filename=a.filename,
                    caption=caption,
                    parse_mode=ParseMode.HTML,
                    message_thread_id=thread_id,
                )
            return None
        chunks = message_chunks(reply)
        for i, chunk in enumerate(chunks):
            await self.limiter.acquire(str(chat), is_group)
            markup = keyboard(reply.buttons) if i == len(chunks) - 1 else None
            await self.bot.send_message(
                chat, chunk, parse_mode=ParseMode.HTML, reply_markup=markup, message_thread_id=thread_id
            )
        return None


class TelegramAdapter:
    def __init__(
        self,
        settings: TelegramSettings,
        dispatch: Callable[[Inbound], Awaitable[list[Reply]]],
        limiter: RateLimiter,
        poll_lookup: Callable[[str], Awaitable[tuple[str, str] | None]],
        hold_vote: Callable[[HeldVote], Awaitable[tuple[str, str] | None]],
        on_undeliverable: Callable[[str, str, str, list[Reply], str, str, str | None], Awaitable[None]],
        on_blocked: Callable[[str, str], Awaitable[None]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.dispatch = dispatch
        self.poll_lookup = poll_lookup
        self.hold_vote = hold_vote
        self.on_undeliverable = on_undeliverable
        self.on_blocked = on_blocked
        self.clock = clock
        base = settings.api_base_url.rstrip("/")
        self.application = (
            ApplicationBuilder()
            .token(settings.token)
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .concurrent_updates(settings.concurrency)
            .get_updates_read_timeout(settings.poll_timeout + 10)
            .build()
        )
        self.transport = TelegramTransport(self.application, limiter)
        self._admins: TtlCache[tuple[int, int], bool] = TtlCache(ADMIN_CACHE_SECONDS, ADMIN_CACHE_SIZE)
        self.username = ""
        app = self.application
        app.add_handler(MessageHandler(filters.ALL & ~filters.UpdateType.EDITED, self._on_message))
        app.add_handler(CallbackQueryHandler(self._on_callback))
        app.add_handler(PollAnswerHandler(self._on_poll_answer))
        app.add_handler(ChatMemberHandler(self._on_my_membership, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_error_handler(self._on_error)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Raises ConfigError if Telegram rejects the token, PlatformUnreachable if it cannot be reached."""
        try:
            await self._start()
        except InvalidToken:  # its message quotes the token: never let it through
            await self.stop()
            raise ConfigError(["TELEGRAM_BOT_TOKEN was rejected by Telegram (check it with @BotFather)"]) from None
        except (TimedOut, NetworkError) as exc:
            await self.stop()
            raise PlatformUnreachable(f"Telegram: {type(exc).__name__}: {exc.message}") from None

    async def _start(self) -> None:
        app = self.application
        await app.initialize()
        self.username = app.bot.username or ""
        await app.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
        await app.start()
        assert app.updater is not None
        kinds = ["message", "callback_query", "poll_answer", "my_chat_member"]
        if self.settings.webhook_url:
            host, _, port = self.settings.webhook_listen.rpartition(":")
            await app.updater.start_webhook(
                listen=host or "0.0.0.0",
                port=int(port),
                url_path="telegram",
                webhook_url=self.settings.webhook_url,
                secret_token=self.settings.webhook_secret,
                allowed_updates=kinds,
            )
        else:
            await app.updater.start_polling(
                poll_interval=0.0, timeout=self.settings.poll_timeout, allowed_updates=kinds
            )
        log.info(
            "telegram: running as @%s (%s)", self.username, "webhook" if self.settings.webhook_url else "long polling"
        )

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    @property
    def connected(self) -> bool:
        """For /readyz: the application runs and its updater polls or listens."""
        app = self.application
        return bool(app.running and app.updater is not None and app.updater.running)

    # ------------------------------------------------------------------ inbound

    @staticmethod
    def _kind(chat: Chat) -> ChatKind:
        return "private" if chat.type == Chat.PRIVATE else "group"

    def _parse(self, message: Message) -> Payload | None:
        """A command addressed to this bot, or text. None: not for us (another bot's command)."""
        text = message.text or ""
        if text.startswith("/") and len(text) > 1 and not text[1].isspace():
            head, *args = text[1:].split()
            name, _, target = head.partition("@")
            if target and self.username and target.lower() != self.username.lower():
                return None
            return CommandIn(name.lower(), tuple(args))
        return TextIn(text)

    async def _is_admin(self, chat_id: int, user_id: int) -> bool:
        cached = self._admins.get((chat_id, user_id))
        if cached is not None:
            return cached
        member = await self.application.bot.get_chat_member(chat_id, user_id)
        admin = member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
        self._admins.put((chat_id, user_id), admin)
        return admin

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if message is None or chat is None or user is None or user.is_bot:
            return
        kind = self._kind(chat)
        thread = message.message_thread_id if message.is_topic_message else None
        if message.text is None:
            if kind == "private":
                text_only = Reply("I can only read text messages. Type your answer, or send /help.")
                await self._deliver(chat.id, kind, [text_only], thread, str(user.id))
            return
        payload = self._parse(message)
        if payload is None:
            return
        if kind == "group" and isinstance(payload, TextIn):
            # With privacy mode on only replies to the bot arrive; with it off, ignore chatter not addressed to us.
            replied = message.reply_to_message
            if replied is None or replied.from_user is None or replied.from_user.id != self.application.bot.id:
                return
        is_admin = kind == "group" and isinstance(payload, CommandIn) and payload.name == "quiz" and bool(payload.args)
        event = Inbound(
            PLATFORM,
            str(chat.id),
            kind,
            str(user.id),
            user.full_name,
            str(message.message_id),
            message.date or self.clock(),
            payload,
            thread_id=str(thread) if thread else None,
            is_admin=await self._is_admin(chat.id, user.id) if is_admin else False,
        )
        if isinstance(payload, CommandIn) and payload.name in GRADING_COMMANDS:
            await self._typing(chat.id, thread)
        await self._deliver(chat.id, kind, await self.dispatch(event), thread, event.user_id)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        await query.answer()  # every press is acknowledged, whatever its data
        message = query.message
        chat = message.chat if message is not None else None
        if chat is None or query.from_user.is_bot:
            return
        kind = self._kind(chat)
        thread = message.message_thread_id if isinstance(message, Message) and message.is_topic_message else None
        data = query.data or ""
        if data.startswith("rd:done"):
            await self._typing(chat.id, thread)
        event = Inbound(
            PLATFORM,
            str(chat.id),
            kind,
            str(query.from_user.id),
            query.from_user.full_name,
            f"cb{query.id}",
            self.clock(),
            ChoiceIn(data),
            thread_id=str(thread) if thread else None,
        )
        await self._deliver(chat.id, kind, await self.dispatch(event), thread, event.user_id)

    async def _on_poll_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        answer = update.poll_answer
        if answer is None or answer.user is None or not answer.option_ids:
            return  # a retracted vote, or an anonymous one
        received = self.clock()
        found = await self.poll_lookup(answer.poll_id)
        if found is None:
            # A member can vote the moment a poll appears, before the sender has stored its id:
            # the vote is held and counted once the poll is recorded (nobody can vote twice on a quiz).
            vote = HeldVote(answer.poll_id, str(answer.user.id), answer.user.full_name, answer.option_ids[0],
                            f"pa{update.update_id}", received)  # fmt: skip
            found = await self.hold_vote(vote)
            if found is None:
                log.info("telegram: a vote on poll %s arrived before the poll was recorded; held", answer.poll_id)
                return
        chat_id, ref = found
        event = Inbound(
            PLATFORM,
            chat_id,
            "group",
            str(answer.user.id),
            answer.user.full_name,
            f"pa{update.update_id}",
            received,
            PollAnswerIn(ref, answer.option_ids[0]),
        )
        replies = await self.dispatch(event)
        # The poll itself shows the member whether they were right; private notes have nowhere to go.
        await self._deliver(int(chat_id), "group", [r for r in replies if not r.private], None, event.user_id)

    async def _on_my_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        if change and change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
            await self.on_blocked(str(change.chat.id), f"bot {change.new_chat_member.status}")

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: error while handling an update: %s", context.error, exc_info=context.error)

    # ------------------------------------------------------------------ outbound

    async def _typing(self, chat_id: int, thread: int | None) -> None:
        try:
            await self.application.bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=thread)
        except TelegramError as exc:  # only a courtesy; the reply itself is what matters
            log.debug("typing indicator failed: %s", exc)

    async def _deliver(
        self, chat_id: int, kind: ChatKind, replies: list[Reply], thread: int | None, owner: str
    ) -> None:
        """Send replies in order; retry what can be retried; what still fails goes to the outbox,
        recording whose replies they are (`owner`), so /forget finds them."""
        for i, reply in enumerate(replies):
            try:
                await with_retries(partial(self.transport.send, str(chat_id), kind, reply, thread), 3, longest_wait=30)
            except RetryLater as exc:
                await self.on_undeliverable(
                    PLATFORM, str(chat_id), kind, replies[i:], str(exc), owner, str(thread) if thread else None
                )
                return
            except Blocked as exc:
                await self.on_blocked(str(chat_id), f"blocked: {exc}")
                return
            except Moved as exc:  # the outbox sends the rest to the new chat id
                await self.on_undeliverable(
                    PLATFORM, exc.new_chat_id, kind, replies[i:], str(exc), owner, str(thread) if thread else None
                )
                return
            except Rejected as exc:
                log.error("telegram: a reply to chat %s was rejected: %s", chat_id, exc)
