"""What the outbox planner and sender need from storage, and the sends the engine asks for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.events import Reply


@dataclass(frozen=True)
class ScheduledRecord:
    """A send the engine wants later, such as closing a channel quiz when its polls expire."""

    key: str
    job: str
    platform: str
    chat_id: str
    chat_kind: str
    ref: str
    not_before: datetime
    thread_id: str | None = None


@dataclass(frozen=True)
class PlannedSend:
    key: str
    job: str
    platform: str
    chat_id: str
    chat_kind: str
    external_user_id: str
    subscription_id: int | None
    ref: str
    not_before: datetime
    thread_id: str | None = None


@dataclass(frozen=True)
class ClaimedSend:
    id: int
    job: str
    platform: str
    chat_id: str
    chat_kind: str
    external_user_id: str
    subscription_id: int | None
    ref: str
    attempts: int
    replies: list[Reply] | None
    token: str = ""  # this claim's fence: marks and renewals only apply while it is still ours
    thread_id: str | None = None


@dataclass(frozen=True)
class HeldVote:
    """A vote on a poll whose id was not recorded yet (Telegram can deliver it before sendPoll's answer
    is stored): kept until the sender records the poll, then counted, never dropped."""

    poll_id: str
    user_id: str  # the voter's platform id
    name: str
    option: int
    event_id: str  # the update's dedupe key, the same whoever dispatches the vote
    received_at: datetime


@dataclass(frozen=True)
class DueGroup:
    """Subscriptions due at the same instant with the same schedule: planned together."""

    kind: str
    at: str
    zone: str
    days: tuple[str, ...]
    next_run: datetime
    size: int


class OutboxStore(Protocol):
    """The storage operations the planner and the sender need, inside one unit of work."""

    async def due_groups(self, now: datetime, limit: int) -> list[DueGroup]: ...

    async def plan_group(self, group: DueGroup, key_suffix: str, next_run: datetime, now: datetime) -> int: ...

    async def claim(self, now: datetime, instance: str, limit: int, lease: timedelta) -> list[ClaimedSend]: ...

    async def outbox_replies(self, outbox_id: int) -> list[Reply] | None: ...

    async def hold(self, outbox_id: int, token: str, until: datetime) -> bool: ...

    async def mark_sent(self, outbox_id: int, token: str, now: datetime) -> bool: ...

    async def release_claims(self, instance: str) -> int: ...

    async def mark_retry(self, outbox_id: int, token: str, not_before: datetime, error: str) -> bool: ...

    async def mark_failed(self, outbox_id: int, token: str, error: str) -> bool: ...

    async def deactivate_chat(self, platform: str, chat_id: str, reason: str) -> int: ...

    async def move_chat(self, platform: str, old_chat_id: str, new_chat_id: str) -> None: ...

    async def record_polls(
        self, platform: str, chat_id: str, polls: Sequence[tuple[str, str]], now: datetime
    ) -> None: ...  # (platform poll id, quiz ref), recorded as soon as each poll is out

    async def take_votes(self, platform: str, poll_id: str, event_id: str | None = None) -> list[HeldVote]: ...


OutboxStores = Callable[[], AbstractAsyncContextManager[OutboxStore]]
