"""Runs each event in one transaction: dedupe, load state, engine, save state and records, commit."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.answering.srs import CardState
from bot.core.events import Inbound, Reply, clean_event
from bot.core.ports import ConversationKey, Profile, StaleState, UnitOfWorkFactory
from bot.core.router import Router
from bot.core.state import DialogueState
from bot.progress.records import ForgetRecord, LinkRecord, LinkView, StatsView, UnlinkRecord
from bot.quiz.records import Leaderboard, QuizRunView
from bot.subscriptions.subscription import Subscription

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self, engine: Router, uow: UnitOfWorkFactory, clock: Callable[[], datetime], *, retries: int = 8
    ) -> None:
        self.engine = engine
        self.uow = uow
        self.clock = clock
        self.retries = retries
        # Serialises events of one conversation inside this process; across processes the
        # state's version column catches the conflict and the event is retried.
        self._locks: weakref.WeakValueDictionary[tuple[str, str, str], asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, event: Inbound) -> asyncio.Lock:
        key = (event.platform, event.chat_id, event.user_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def dispatch(self, event: Inbound) -> list[Reply]:
        event = clean_event(event)  # before anything is stored: names and ids too
        async with self._lock(event):
            for attempt in range(self.retries):
                try:
                    return await self._once(event)
                except StaleState:
                    log.info("state changed underneath event, retrying (attempt %d)", attempt + 1)
                    await asyncio.sleep(0.005 * (attempt + 1))
            raise RuntimeError("conversation kept changing; gave up after retries")

    async def _once(self, event: Inbound, outbox_id: int | None = None) -> list[Reply]:
        """Read, compute, then commit. The engine runs with no transaction open: grading with an LLM or
        drawing a chart takes seconds, and must hold up neither other users (SQLite's single writer)
        nor a pooled connection (PostgreSQL). The commit checks the state's version, so a conversation
        that changed meanwhile is recomputed (StaleState) instead of overwritten."""
        now = self.clock()
        dedupe = f"{event.chat_id}:{event.message_id}" if event.message_id is not None else None
        user_id, state, version = 0, DialogueState(), 0
        async with self.uow().reading() as uow:
            if dedupe is not None and await uow.was_processed(event.platform, dedupe):
                log.info("duplicate delivery of %s message ignored", event.platform)
                return []
            if event.user_id:
                found = await uow.find_user(event.platform, event.user_id)
                if found is None and outbox_id is not None:  # they used /forget since: nothing may re-create them
                    return []
                if found is not None:
                    user_id = found
                    state, version = await uow.load_state(ConversationKey(event.platform, event.chat_id, user_id))
        if event.user_id and not user_id:
            async with self.uow() as uow:  # first contact: the only write before the engine runs
                user_id = await uow.user_for(event.platform, event.user_id, event.display_name)
        key = ConversationKey(event.platform, event.chat_id, user_id)
        history = bool(event.user_id) and self.engine.needs_history(event)
        turn = await self.engine.handle(event, state, _Reads(self.uow, event, user_id, history, now))
        async with self.uow() as uow:
            if dedupe is not None and not await uow.mark_processed(event.platform, dedupe, now):
                log.info("duplicate delivery of %s message ignored", event.platform)
                return []
            if not event.user_id:  # a chat-level event (a channel quiz): no user, no dialogue state
                await uow.write_records(0, turn.records)
            elif any(isinstance(r, ForgetRecord) for r in turn.records):
                await uow.forget_user(user_id)  # and no state is saved after it: nothing of theirs remains
            else:
                await uow.write_records(user_id, turn.records)
                for rec in turn.records:
                    if isinstance(rec, LinkRecord):  # the conversation moves with the user it joined
                        await uow.link_users(user_id, rec.target_user, rec.code, now)
                        key = ConversationKey(event.platform, event.chat_id, rec.target_user)
                    elif isinstance(rec, UnlinkRecord):
                        key = ConversationKey(
                            event.platform, event.chat_id, await uow.unlink(user_id, rec.platform, now)
                        )
                if turn.state != state:  # a reply that changed nothing (help, a notice) costs no write
                    await uow.save_state(key, turn.state, version, now)
                elif turn.records:  # records computed from a state that must still be current
                    await uow.check_version(key, version)
            if outbox_id is not None:
                await uow.save_replies(outbox_id, turn.replies)
        return turn.replies

    async def dispatch_scheduled(self, event: Inbound, outbox_id: int) -> list[Reply]:
        """A scheduled send: the engine's replies are stored with the outbox row in the same transaction,
        so after a crash the sender re-sends the stored replies instead of asking the engine again."""
        event = clean_event(event)
        async with self._lock(event):
            for attempt in range(self.retries):
                try:
                    return await self._once(event, outbox_id)
                except StaleState:
                    await asyncio.sleep(0.005 * (attempt + 1))
            raise RuntimeError("conversation kept changing; gave up after retries")


class _Reads:
    """The engine's lazy view of stored user and chat data: each read is its own short read-only
    transaction, so none stays open while the engine works."""

    def __init__(self, uow: UnitOfWorkFactory, event: Inbound, user_id: int, history: bool, now: datetime) -> None:
        self.uow, self.event, self.user_id, self.history, self.now = uow, event, user_id, history, now

    async def profile(self) -> Profile:
        async with self.uow().reading() as uow:
            return await uow.load_profile(self.user_id, self.event.display_name, with_history=self.history)

    async def seen(self) -> frozenset[str]:
        async with self.uow().reading() as uow:
            return await uow.seen_questions(self.user_id)

    async def cards(self) -> dict[str, CardState]:
        async with self.uow().reading() as uow:
            return await uow.load_cards(self.user_id)

    async def subscription(self, kind: str) -> Subscription | None:
        async with self.uow().reading() as uow:
            return await uow.load_subscription(kind, self.event.platform, self.event.chat_id, self.user_id)

    async def group_seen(self) -> dict[str, int]:
        async with self.uow().reading() as uow:
            return await uow.group_seen(self.event.platform, self.event.chat_id)

    async def quiz_run(self, run_id: str) -> QuizRunView | None:
        async with self.uow().reading() as uow:
            return await uow.quiz_run(run_id)

    async def leaderboard(self) -> Leaderboard:
        async with self.uow().reading() as uow:
            return await uow.leaderboard(self.event.platform, self.event.chat_id, self.now)

    async def stats(self) -> StatsView:
        async with self.uow().reading() as uow:
            return await uow.stats(self.user_id, self.now)

    async def export(self) -> dict[str, Any]:
        async with self.uow().reading() as uow:
            return await uow.export(self.user_id)

    async def link_code(self, code: str) -> LinkView | None:
        async with self.uow().reading() as uow:
            return await uow.link_code(code)

    async def platforms(self) -> tuple[str, ...]:
        async with self.uow().reading() as uow:
            return await uow.platforms(self.user_id)
