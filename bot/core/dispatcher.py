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
from bot.core.ports import ConversationKey, Profile, StaleState, UnitOfWork, UnitOfWorkFactory
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
        now = self.clock()
        async with self.uow() as uow:
            scheduled_for: int | None = None
            if outbox_id is not None and event.user_id:
                scheduled_for = await uow.find_user(event.platform, event.user_id)
                if scheduled_for is None:  # they used /forget since it was planned: nothing may re-create them
                    return []
            if event.message_id is not None:
                fresh = await uow.mark_processed(event.platform, f"{event.chat_id}:{event.message_id}", now)
                if not fresh:
                    log.info("duplicate delivery of %s message ignored", event.platform)
                    return []
            if not event.user_id:  # a chat-level event (a channel quiz): no user, no dialogue state
                turn = await self.engine.handle(event, DialogueState(), _UowData(uow, event, 0, False, now))
                await uow.write_records(0, turn.records)
            else:
                user_id = scheduled_for or await uow.user_for(event.platform, event.user_id, event.display_name)
                key = ConversationKey(event.platform, event.chat_id, user_id)
                state, version = await uow.load_state(key)
                data = _UowData(uow, event, user_id, self.engine.needs_history(event), now)
                turn = await self.engine.handle(event, state, data)
                if any(isinstance(r, ForgetRecord) for r in turn.records):
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


class _UowData:
    """The engine's lazy view of stored user and chat data, read through the current transaction."""

    def __init__(self, uow: UnitOfWork, event: Inbound, user_id: int, history: bool, now: datetime) -> None:
        self.uow, self.event, self.user_id, self.history, self.now = uow, event, user_id, history, now

    async def profile(self) -> Profile:
        return await self.uow.load_profile(self.user_id, self.event.display_name, with_history=self.history)

    async def seen(self) -> frozenset[str]:
        return await self.uow.seen_questions(self.user_id)

    async def cards(self) -> dict[str, CardState]:
        return await self.uow.load_cards(self.user_id)

    async def subscription(self, kind: str) -> Subscription | None:
        return await self.uow.load_subscription(kind, self.event.platform, self.event.chat_id, self.user_id)

    async def group_seen(self) -> dict[str, int]:
        return await self.uow.group_seen(self.event.platform, self.event.chat_id)

    async def quiz_run(self, run_id: str) -> QuizRunView | None:
        return await self.uow.quiz_run(run_id)

    async def leaderboard(self) -> Leaderboard:
        return await self.uow.leaderboard(self.event.platform, self.event.chat_id, self.now)

    async def stats(self) -> StatsView:
        return await self.uow.stats(self.user_id, self.now)

    async def export(self) -> dict[str, Any]:
        return await self.uow.export(self.user_id)

    async def link_code(self, code: str) -> LinkView | None:
        return await self.uow.link_code(code)

    async def platforms(self) -> tuple[str, ...]:
        return await self.uow.platforms(self.user_id)
